package dev.vcpuemu.engine.run;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.LatencyKind;
import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Map;

/**
 * A progress sample, taken by the time-keeper at a quantum boundary, or the run's end: the
 * counters so far (cumulative, the final report's: every actor's, {@code messages} received by
 * all of them, {@code deadLetters}), the findings so far with their first examples (a soak
 * checkpoint is built from it), the latencies recorded since the previous sample (histograms the
 * receiver owns), and the mailbox backlog when the run counts it (-1 otherwise).
 */
public record Progress(double wallSeconds, long simulatedNanos, Map<String, Long> counters, long findings,
                       double microOpsPerSecond, double messagesPerSecond, Map<FindingKind, Long> findingsByKind,
                       List<Finding> findingExamples, Map<LatencyKind, Histogram> intervalLatencies,
                       long mailboxBacklog, long mailboxBacklogMax) {
    public Progress {
        counters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(counters));
        findingsByKind = Map.copyOf(findingsByKind);
        findingExamples = List.copyOf(findingExamples);
    }
}
