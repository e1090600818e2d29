package dev.vcpuemu.app.scenario;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The hazard matrix (issue 3 §6): every scenario of {@code conf/scenarios/} (one per hazard of
 * reference §4, named {@code hazard-<roman>-….conf}, titled by its first comment line) run on
 * every host/guest pair, each cell what the emulator showed: finding kinds and counts, or none.
 * The runs are deterministic (seed {@value #SEED}, the uniform random schedule), each scenario's
 * simulated duration capped at {@link #CAP}, so the page is reproducible byte for byte and a
 * test can tell when the committed page is out of date with the scenarios.
 *
 * <p>Columns: the legacy host before and after the #DF guard and the 208081 fix, the 5.2, 5.3
 * and 5.8 guests, the interrupt pair, the two proposed designs, and the two mismatched pairs of
 * §2.6. The interrupt era's dated fixes are switches a scenario sets, not columns.
 */
public final class HazardMatrix {
    public static final long SEED = 42;
    public static final Duration CAP = Duration.ofMillis(20);
    private static final Pattern NAME = Pattern.compile("hazard-([ivx]+)-.*\\.conf");

    /** A host/guest pair, as the columns show it. */
    public record Column(String title, HostEra host, GuestEra guest) {}

    public static final List<Column> COLUMNS = List.of(
            new Column("HL0 + GL: KVM ≤4.14, Linux 5.3–5.7", HostEra.LEGACY_EARLY, GuestEra.LEGACY),
            new Column("HL #DF guard + GL: KVM 4.15–4.20", HostEra.LEGACY_DF_GUARD, GuestEra.LEGACY),
            new Column("HL + GL-a: KVM 5.0–5.7, Linux ≤5.2", HostEra.LEGACY, GuestEra.LEGACY_EARLY),
            new Column("HL + GL: KVM 5.0–5.7, Linux 5.3–5.7", HostEra.LEGACY, GuestEra.LEGACY),
            new Column("HL + 208081 fix + GL", HostEra.LEGACY_FIXED, GuestEra.LEGACY),
            new Column("HL + 208081 fix + G58: Linux 5.8", HostEra.LEGACY_FIXED, GuestEra.USER_ONLY),
            new Column("HI + GI: KVM ≥5.8, Linux ≥5.9", HostEra.INTERRUPT, GuestEra.INTERRUPT),
            new Column("design: not-present in the error code", HostEra.ERROR_CODE, GuestEra.ERROR_CODE),
            new Column("design: #VE, an area per nesting level", HostEra.VE, GuestEra.VE),
            new Column("HI + GL (§2.6)", HostEra.INTERRUPT, GuestEra.LEGACY),
            new Column("HL + GI (§2.6)", HostEra.LEGACY, GuestEra.INTERRUPT));

    /** One scenario's runs: a cell per column, and its {@code expect} block judged on its own pair. */
    public record Row(Path file, String hazard, String title, List<String> cells, Column ownPair, Expectations own) {}

    private HazardMatrix() {
    }

    /** The scenario files of {@code dir}, in the order of their hazard numerals. */
    public static List<Path> scenarios(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> NAME.matcher(f.getFileName().toString()).matches())
                    .sorted(Comparator.comparingInt((Path f) -> roman(numeral(f))).thenComparing(Path::toString))
                    .toList();
        }
    }

    /** Runs every scenario on every column. */
    public static List<Row> run(Path dir) throws IOException, ConfigProblem, InterruptedException {
        List<Row> rows = new ArrayList<>();
        for (Path file : scenarios(dir)) {
            rows.add(row(file));
        }
        return rows;
    }

    private static Row row(Path file) throws ConfigProblem, InterruptedException {
        DeterministicRunner runner = new DeterministicRunner(Optional.of(file), List.of("run.report=\"\""));
        Settings own = runner.load(SEED, List.of()).settings();
        String duration = "run.duration=" + Math.min(own.run().duration().toNanos(), CAP.toNanos()) + "ns";
        List<String> cells = new ArrayList<>();
        Column ownPair = null;
        Expectations ownExpect = null;
        for (Column c : COLUMNS) {
            LoadedSettings loaded = runner.load(SEED, List.of(duration,
                    "host.era=" + configName(c.host()), "guest.era=" + configName(c.guest())));
            RunResult r = DeterministicRunner.run(loaded, StrategySpec.random(), null, Long.MAX_VALUE, null, null, null,
                    p -> { });
            cells.add(cell(r));
            if (c.host() == own.host().era() && c.guest() == own.guest().era()) {
                ownPair = c;
                ownExpect = Expectations.judge(loaded.settings().expect(), r);
            }
        }
        return new Row(file, numeral(file), title(file), cells, ownPair, ownExpect);
    }

    /** An era as a topology file spells it: lower case with dashes. */
    private static String configName(Enum<?> era) {
        return era.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Finding kinds and counts, or none; how the run ended when it ended before its duration. */
    static String cell(RunResult r) {
        String findings = r.findings().entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.comparingByKey(Comparator.comparingInt(FindingKind::ordinal)))
                .map(e -> e.getKey().name() + " " + e.getValue()).collect(Collectors.joining(", "));
        String cell = findings.isEmpty() ? "none" : findings;
        if (!r.endReason().equals(RunControl.DURATION)) {
            cell += String.format(Locale.ROOT, " (ended: %s at %.3f ms)", r.endReason(), r.simulatedNanos() / 1e6);
        }
        return cell.replace("|", "\\|");
    }

    /** The page: a table of hazards by pairs, how it was made, and each scenario's own expectations. */
    public static String markdown(List<Row> rows, String dir) {
        StringBuilder b = new StringBuilder();
        b.append("# Hazard matrix\n\n");
        b.append("What the emulator shows for each hazard scenario of `").append(dir).append("` (reference §4) on each\n")
                .append("host/guest pair (reference §2.6): the finding kinds and their counts, or none, and how a run\n")
                .append("ended when it ended early. Deterministic engine, seed ").append(SEED)
                .append(", uniform random schedule, each scenario's\n")
                .append("simulated duration capped at ").append(CAP.toMillis()).append(" ms.\n\n")
                .append("Generated by `java -jar modules/app/target/vcpu-emu.jar matrix`; do not edit by hand. A test fails\n")
                .append("when this page is out of date with the scenarios.\n\n");
        b.append("| hazard | scenario |");
        COLUMNS.forEach(c -> b.append(' ').append(c.title()).append(" |"));
        b.append("\n|---|---|");
        COLUMNS.forEach(c -> b.append("---|"));
        b.append('\n');
        for (Row r : rows) {
            b.append("| (").append(r.hazard()).append(") ").append(r.title()).append(" | `")
                    .append(r.file().getFileName()).append("` |");
            r.cells().forEach(c -> b.append(' ').append(c).append(" |"));
            b.append('\n');
        }
        b.append("\n## Each scenario's own expectations\n\n")
                .append("Judged on the pair the scenario names (its `host.era` and `guest.era`), within the cap.\n\n");
        for (Row r : rows) {
            b.append("- `").append(r.file().getFileName()).append("` on ")
                    .append(r.ownPair() == null ? "a pair without a column" : r.ownPair().title()).append(": ")
                    .append(r.own() == null ? "not run" : r.own().met() ? "met" : "NOT MET").append('\n');
            if (r.own() != null) {
                for (Expectations.Check c : r.own().checks()) {
                    b.append("  - ").append(c.met() ? "ok" : "FAILED").append(": ").append(c.expect())
                            .append(" (").append(c.actual().replace("\n", " ")).append(")\n");
                }
            }
        }
        return b.toString();
    }

    private static String numeral(Path f) {
        Matcher m = NAME.matcher(f.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(f + ": not a hazard scenario name");
        }
        return m.group(1);
    }

    /** The first comment line, less the leading "(numeral)". */
    static String title(Path f) {
        try {
            String first = Files.readAllLines(f).stream().findFirst().orElse("").replaceFirst("^#\\s*", "");
            return first.replaceFirst("^\\([ivx]+\\)\\s*", "").replace("|", "\\|");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int roman(String s) {
        int total = 0;
        int prev = 0;
        for (int i = s.length() - 1; i >= 0; i--) {
            int v = switch (s.charAt(i)) {
                case 'i' -> 1;
                case 'v' -> 5;
                case 'x' -> 10;
                default -> throw new IllegalArgumentException(s);
            };
            total += v < prev ? -v : v;
            prev = Math.max(prev, v);
        }
        return total;
    }
}
