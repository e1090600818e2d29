package dev.vcpuemu.app.config;

import dev.vcpuemu.model.finding.FindingKind;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Finding kinds as people write them, the same in a topology's {@code expect} block and on the
 * command line ({@code --find}): the name in any case, with dashes or underscores
 * ({@code LOST_WAKEUP}, {@code lost-wakeup}, {@code lost_wakeup}).
 */
public final class FindingKinds {
    private FindingKinds() {
    }

    /** The kind so named, if any. */
    public static Optional<FindingKind> of(String name) {
        String n = normalize(name);
        return Arrays.stream(FindingKind.values()).filter(k -> k.name().equals(n)).findFirst();
    }

    /** {@code " (did you mean HUNG_TASK?)"}, or the list of known kinds when none is close. */
    public static String hint(String name) {
        String n = normalize(name);
        return Arrays.stream(FindingKind.values())
                .filter(k -> score(n, k) <= 3)
                .min((a, b) -> Integer.compare(score(n, a), score(n, b)))
                .map(k -> " (did you mean " + k + "?)")
                .orElse(" (known: " + Arrays.stream(FindingKind.values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
    }

    private static String normalize(String name) {
        return name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** Edit distance to a kind's name; a part of the name (HUNG for HUNG_TASK) counts as 1. */
    private static int score(String n, FindingKind k) {
        int d = KeyChecker.distance(n, k.name());
        return n.length() >= 3 && k.name().contains(n) ? Math.min(d, 1) : d;
    }
}
