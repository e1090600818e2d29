package dev.vcpuemu.engine.run;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;

import java.util.List;
import java.util.Map;

/**
 * What a run produced: the report's measured part (DESIGN §4). Expectations are judged by the
 * application from this and the settings.
 *
 * @param endReason why the run ended: "duration", "stopped", or the guest's death
 */
public record RunResult(double wallSeconds, long simulatedNanos, Map<String, Long> counters,
                        Map<FindingKind, Long> findings, List<Finding> findingExamples,
                        Conservation conservation, String endReason) {

    /** End-of-run conservation of tokens, work items and messages (DESIGN §1.6). */
    public record Conservation(boolean held, String detail) {}
}
