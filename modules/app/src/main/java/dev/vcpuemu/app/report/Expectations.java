package dev.vcpuemu.app.report;

import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Judges a run against its {@code expect} block (DESIGN §4): findings that must appear, must
 * not appear, and texts their details must contain. Without an expect block a run must show
 * no finding at all.
 */
public record Expectations(boolean met, List<Check> checks) {

    public record Check(String expect, String actual, boolean met) {}

    public static Expectations judge(Settings.Expect expect, RunResult result) {
        List<Check> checks = new ArrayList<>();
        Map<FindingKind, Long> found = result.findings();
        if (expect.isEmpty()) {
            long total = found.values().stream().mapToLong(Long::longValue).sum();
            checks.add(new Check("no findings", total + " findings " + found, total == 0));
        }
        for (FindingKind k : expect.present()) {
            long n = found.getOrDefault(k, 0L);
            checks.add(new Check(k + " present", k + " = " + n, n > 0));
        }
        for (FindingKind k : expect.absent()) {
            long n = found.getOrDefault(k, 0L);
            checks.add(new Check(k + " absent", k + " = " + n, n == 0));
        }
        for (Map.Entry<FindingKind, String> e : expect.detailContains().entrySet()) {
            // Examples are the first few findings of each kind; the check reads those.
            List<String> details = result.findingExamples().stream()
                    .filter(f -> f.kind() == e.getKey()).map(Finding::detail).toList();
            boolean ok = details.stream().anyMatch(d -> d.contains(e.getValue()));
            checks.add(new Check(e.getKey() + " detail contains \"" + e.getValue() + "\"",
                    details.isEmpty() ? "no " + e.getKey() : String.join(" | ", details), ok));
        }
        if (expect.conservation()) {
            checks.add(new Check("conservation holds", result.conservation().held() ? "held" : "broken",
                    result.conservation().held()));
        }
        return new Expectations(checks.stream().allMatch(Check::met), List.copyOf(checks));
    }
}
