package dev.vcpuemu.engine.run;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.VcpuTime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run produced: the report's measured part (DESIGN §4). Expectations are judged by the
 * application from this and the settings.
 *
 * @param endReason why the run ended: "duration", "stopped", "quiescent", "step budget",
 *                  "finding: KIND", the guest's death, or "emulator fault"
 * @param traceHash the deterministic engine's trace hash (hex), null for a concurrent run
 * @param modelHash the deterministic engine's hash of the vCPU models' events alone, each vCPU's
 *                  in its own order, combined in vCPU order (hex; null for a concurrent run): it
 *                  does not change with the engine's knobs where the physics is exact
 * @param schedulingSteps the deterministic engine's scheduling steps, -1 for a concurrent run
 * @param fault the emulator's own failure that ended the run, or null (DESIGN §1.6: a failure
 *              of the emulator stops the run loudly with its cause)
 * @param latencies each latency kind's percentiles over the run, by report key
 * @param timing how each kind of input landed, by report key (empty when not measured)
 */
public record RunResult(double wallSeconds, long simulatedNanos, Map<String, Long> counters,
                        Map<FindingKind, Long> findings, List<Finding> findingExamples,
                        Conservation conservation, String endReason, String traceHash, String modelHash,
                        long schedulingSteps,
                        Fault fault, Map<String, LatencySummary> latencies, List<VcpuTimes> vcpuTimes,
                        Map<String, InputTiming> timing) {

    public static final String FAULT = "emulator fault";

    /**
     * Where one vCPU's virtual time went, in nanoseconds per {@link VcpuTime} (by ordinal): they
     * add up to the simulated time it ran.
     */
    public record VcpuTimes(int guest, int vcpu, long[] nanos) {
        public long get(VcpuTime use) {
            return nanos[use.ordinal()];
        }
    }

    /** End-of-run conservation of tokens, work items and messages (DESIGN §1.6). */
    public record Conservation(boolean held, String detail) {
        /** What a run that never froze its actors says (the emulator failed, a node was lost): not held, not broken. */
        public static final String NOT_CHECKED = "not checked: ";

        public static Conservation notChecked(String why) {
            return new Conservation(false, NOT_CHECKED + why);
        }

        /** Whether it was checked at all (else {@link #held()} is false for want of a check, not a loss). */
        public boolean checked() {
            return !detail.startsWith(NOT_CHECKED);
        }
    }

    /**
     * An exception escaped an actor: which one, the exception, its stack, and (for a vCPU) the
     * last events of that vCPU before it.
     */
    public record Fault(String actor, String error, List<String> stackTrace, List<String> lastEvents) {
        public Fault {
            stackTrace = List.copyOf(stackTrace);
            lastEvents = List.copyOf(lastEvents);
        }
    }

    /** A run that ended because the emulator failed: nothing was frozen or counted. */
    public static RunResult faulted(Fault fault, double wallSeconds) {
        return new RunResult(wallSeconds, 0, Map.of(), Map.of(), List.of(),
                Conservation.notChecked("the emulator failed in " + fault.actor()), FAULT, null, null, -1,
                fault, Map.of(), List.of(), Map.of());
    }

    /**
     * The part of this run after progress sample {@code from}: counters, wall and simulated time
     * as differences from the sample's (a counter the sample lacks counts from zero). Findings,
     * conservation, latencies and the rest stay the whole run's.
     */
    public RunResult since(Progress from) {
        Map<String, Long> after = new LinkedHashMap<>();
        counters.forEach((k, v) -> after.put(k, v - from.counters().getOrDefault(k, 0L)));
        return new RunResult(wallSeconds - from.wallSeconds(), simulatedNanos - from.simulatedNanos(), after, findings,
                findingExamples, conservation, endReason, traceHash, modelHash, schedulingSteps, fault, latencies,
                vcpuTimes, timing);
    }

    /** This result with the deterministic engine's trace and model hashes and scheduling steps. */
    public RunResult withTrace(String hash, String model, long steps) {
        return new RunResult(wallSeconds, simulatedNanos, counters, findings, findingExamples, conservation, endReason,
                hash, model, steps, fault, latencies, vcpuTimes, timing);
    }
}
