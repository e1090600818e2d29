package dev.vcpuemu.engine.run;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;

import java.util.List;
import java.util.Map;

/**
 * What a run produced: the report's measured part (DESIGN §4). Expectations are judged by the
 * application from this and the settings.
 *
 * @param endReason why the run ended: "duration", "stopped", "quiescent", "step budget",
 *                  "finding: KIND", or the guest's death
 * @param traceHash the deterministic engine's trace hash (hex), null for a concurrent run
 * @param schedulingSteps the deterministic engine's scheduling steps, -1 for a concurrent run
 */
public record RunResult(double wallSeconds, long simulatedNanos, Map<String, Long> counters,
                        Map<FindingKind, Long> findings, List<Finding> findingExamples,
                        Conservation conservation, String endReason, String traceHash, long schedulingSteps) {

    /** End-of-run conservation of tokens, work items and messages (DESIGN §1.6). */
    public record Conservation(boolean held, String detail) {}

    RunResult withTrace(String hash, long steps) {
        return new RunResult(wallSeconds, simulatedNanos, counters, findings, findingExamples, conservation, endReason,
                hash, steps);
    }
}
