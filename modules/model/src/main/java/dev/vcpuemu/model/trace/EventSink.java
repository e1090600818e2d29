package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.finding.FindingKind;

/**
 * Receives every event a vCPU records (deliveries, injections, waits, wakes, task switches)
 * and every finding, as it happens, with its virtual time: the deterministic engine hashes them
 * into the run's trace, and a timeline keeps the last of them for a trace file.
 */
public interface EventSink {
    void event(int vcpu, long atNanos, TraceEvent what, long arg);

    /** A finding of {@code kind} at this point of the vCPU's events; recorders that only keep events ignore it. */
    default void finding(int vcpu, long atNanos, FindingKind kind) {}
}
