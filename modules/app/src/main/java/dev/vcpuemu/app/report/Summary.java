package dev.vcpuemu.app.report;

import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;

import java.io.PrintWriter;
import java.util.Map;

/** The human-readable side: the progress line and the end-of-run summary table. */
public final class Summary {
    private Summary() {
    }

    public static String progressLine(Progress p) {
        Map<String, Long> c = p.counters();
        return String.format("[%6.1fs] sim %8.2f ms | %6.2f M uops/s | %6.2f M msg/s | faults %d | APF np %d pr %d | NMIs %d | findings %d",
                p.wallSeconds(), p.simulatedNanos() / 1e6, p.microOpsPerSecond() / 1e6, p.messagesPerSecond() / 1e6,
                c.get("genuinePageFaults"), c.get("apfNotPresentInjected"), c.get("apfPageReadyInjected"),
                c.get("nmisDelivered"), p.findings());
    }

    public static void print(PrintWriter out, RunResult r, Expectations e, String reportPath) {
        long microOps = r.counters().getOrDefault("microOps", 0L);
        long messages = r.counters().getOrDefault("messages", 0L);
        out.println();
        out.printf("Run ended (%s) after %.1f s wall, %.3f ms simulated%n", r.endReason(), r.wallSeconds(),
                r.simulatedNanos() / 1e6);
        out.printf("  %-28s %,18d   (%,.0f per second)%n", "micro-ops", microOps, microOps / Math.max(1e-9, r.wallSeconds()));
        out.printf("  %-28s %,18d   (%,.0f per second)%n", "messages", messages, messages / Math.max(1e-9, r.wallSeconds()));
        r.counters().forEach((k, v) -> {
            if (!k.equals("microOps") && !k.equals("messages")) {
                out.printf("  %-28s %,18d%n", k, v);
            }
        });
        if (r.latencies().values().stream().anyMatch(l -> l.count() > 0)) {
            out.printf("Latencies (virtual µs)%-10s %12s %9s %9s %9s %9s %9s%n", "", "count", "p50", "p90", "p99",
                    "p99.9", "max");
            r.latencies().forEach((k, l) -> {
                if (l.count() > 0) {
                    out.printf("  %-28s %,12d %9.2f %9.2f %9.2f %9.2f %9.2f%n", k, l.count(), l.p50() / 1e3,
                            l.p90() / 1e3, l.p99() / 1e3, l.p999() / 1e3, l.max() / 1e3);
                }
            });
        }
        out.println("Findings");
        if (r.findings().isEmpty()) {
            out.println("  none");
        }
        for (Map.Entry<FindingKind, Long> f : r.findings().entrySet()) {
            String example = r.findingExamples().stream().filter(x -> x.kind() == f.getKey()).findFirst()
                    .map(Finding::detail).orElse("");
            out.printf("  %-28s %,18d   e.g. %s%n", f.getKey(), f.getValue(), example);
        }
        if (r.traceHash() != null) {
            out.printf("Trace hash: %s after %,d scheduling steps; model hash: %s%n", r.traceHash(), r.schedulingSteps(),
                    r.modelHash());
        }
        out.printf("Conservation: %s (%s)%n", r.conservation().held() ? "held"
                : r.conservation().checked() ? "BROKEN" : "NOT CHECKED", r.conservation().detail());
        out.println("Expectations: " + (e.met() ? "met" : "NOT MET"));
        for (Expectations.Check c : e.checks()) {
            out.printf("  [%s] %s: %s%n", c.met() ? "ok" : "FAILED", c.expect(), c.actual());
        }
        if (reportPath != null) {
            out.println("Report: " + reportPath);
        }
    }
}
