package dev.vcpuemu.app.cluster;

import dev.vcpuemu.engine.run.InputTiming;
import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.LatencyRecorders;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The report of a run over several JVMs, from its nodes' parts: counters and findings summed,
 * latencies merged exactly from the nodes' histograms, every node's per-vCPU rows, and
 * conservation over the whole cluster: each node's own (tokens, work items, its messages sent =
 * received, no dead letters), the round messages between JVMs sent = received, and nothing
 * {@code Dropped}.
 */
final class SplitMerge {
    /** Finding examples kept per kind, as on one JVM. */
    private static final int EXAMPLES_PER_KIND = 3;

    private SplitMerge() {
    }

    /**
     * The round messages that crossed between JVMs.
     *
     * @param sent     sent by the coordinator to other JVMs, and {@code nodesReceived} received there
     * @param received received by the coordinator from other JVMs, and {@code nodesSent} sent there
     */
    record CrossNode(long sent, long nodesReceived, long nodesSent, long received, long dropped) {
        boolean held() {
            return sent == nodesReceived && nodesSent == received && dropped == 0;
        }

        String detail() {
            return String.format("between JVMs: %d round messages sent = %d received, %d answers sent = %d received,"
                    + " %d dropped", sent, nodesReceived, nodesSent, received, dropped);
        }
    }

    static CrossNode crossNode(long sent, long received, List<SplitPart> parts) {
        return new CrossNode(sent, parts.stream().mapToLong(SplitPart::crossReceived).sum(),
                parts.stream().mapToLong(SplitPart::crossSent).sum(), received,
                parts.stream().mapToLong(SplitPart::dropped).sum());
    }

    static RunResult merge(List<SplitPart> parts, Map<Integer, List<RunResult.VcpuTimes>> rows, String endReason,
                           CrossNode cross) {
        Map<String, Long> counters = new LinkedHashMap<>();
        Map<FindingKind, Long> findings = new EnumMap<>(FindingKind.class);
        List<Finding> examples = new ArrayList<>();
        Map<String, Histogram> latencies = new LinkedHashMap<>();
        Map<String, long[]> timingCounts = new LinkedHashMap<>();
        Map<String, Boolean> hostSide = new LinkedHashMap<>();
        Map<String, Histogram> lateness = new LinkedHashMap<>();
        List<String> broken = new ArrayList<>();
        double wall = 0;
        for (SplitPart p : parts) {
            p.counters().forEach((k, v) -> counters.merge(k, v, Long::sum));
            p.findings().forEach((k, v) -> findings.merge(k, v, Long::sum));
            examples.addAll(p.examples());
            p.latencies().forEach((k, b) -> latencies.computeIfAbsent(k, x -> LatencyRecorders.total())
                    .add(SplitPart.decode(b)));
            p.timing().forEach((k, t) -> {
                long[] c = timingCounts.computeIfAbsent(k, x -> new long[2]);
                c[0] += t.exact();
                c[1] += t.late();
                hostSide.put(k, t.hostSide());
                lateness.computeIfAbsent(k, x -> LatencyRecorders.total()).add(SplitPart.decode(t.lateness()));
            });
            if (!p.conserved()) {
                broken.add("node " + p.node() + ": " + p.conservation());
            }
            wall = Math.max(wall, p.wallSeconds());
        }
        if (!cross.held()) {
            broken.add(cross.detail());
        }
        examples.sort(Comparator.comparingLong(Finding::atNanos));
        Map<FindingKind, Integer> kept = new EnumMap<>(FindingKind.class);
        examples.removeIf(f -> kept.merge(f.kind(), 1, Integer::sum) > EXAMPLES_PER_KIND);
        Map<String, LatencySummary> summaries = new LinkedHashMap<>();
        latencies.forEach((k, h) -> summaries.put(k, LatencySummary.of(h)));
        Map<String, InputTiming> timing = new LinkedHashMap<>();
        timingCounts.forEach((k, c) -> timing.put(k, new InputTiming(hostSide.get(k), c[0], c[1],
                LatencySummary.of(lateness.get(k)))));
        List<RunResult.VcpuTimes> all = new ArrayList<>();
        new TreeMap<>(rows).values().forEach(all::addAll);
        all.sort(Comparator.comparingInt(RunResult.VcpuTimes::guest).thenComparingInt(RunResult.VcpuTimes::vcpu));
        String detail = broken.isEmpty()
                ? "held on every node (" + parts.size() + ") and " + cross.detail()
                : "broken: " + String.join("; ", broken);
        return new RunResult(wall, parts.get(0).simulatedNanos(), counters, findings, List.copyOf(examples),
                new RunResult.Conservation(broken.isEmpty(), detail), endReason, null, null, -1, null, summaries, all,
                timing);
    }

    /**
     * A run cut short by a node's loss: what the coordinator knew (the counters of the last progress
     * sample), ending at {@code simulatedNanos}; conservation not checked.
     */
    static RunResult partial(String why, Map<String, Long> counters, long simulatedNanos, double wallSeconds) {
        return new RunResult(wallSeconds, simulatedNanos, counters, Map.of(), List.of(),
                RunResult.Conservation.notChecked(why), why, null, null, -1, null, Map.of(), List.of(),
                Map.of());
    }
}
