package dev.vcpuemu.engine.run;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;

import java.util.List;
import java.util.Map;

/**
 * A progress sample, taken by the time-keeper at a quantum boundary: the vCPUs' counters so
 * far (cumulative), and the findings so far with their first examples (a soak checkpoint is
 * built from it).
 */
public record Progress(double wallSeconds, long simulatedNanos, Map<String, Long> counters, long findings,
                       double microOpsPerSecond, double messagesPerSecond, Map<FindingKind, Long> findingsByKind,
                       List<Finding> findingExamples) {
    public Progress {
        counters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(counters));
        findingsByKind = Map.copyOf(findingsByKind);
        findingExamples = List.copyOf(findingExamples);
    }
}
