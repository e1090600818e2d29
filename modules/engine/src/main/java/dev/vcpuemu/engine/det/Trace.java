package dev.vcpuemu.engine.det;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * The trace of a deterministic run, kept as a running 64-bit hash of every delivered event in
 * order: each message an actor receives (which actor, which message type) and each event of
 * the vCPU models (deliveries, injections, waits, wakes, task switches, findings, with their
 * virtual times and arguments). Equal hashes mean, with overwhelming probability, equal runs;
 * the report's {@code traceHash}.
 *
 * <p>Only safe on one thread: the deterministic engine runs every simulation actor on one.
 */
public final class Trace implements EventSink {
    private static final long MULTIPLIER = 0x9E3779B97F4A7C15L;

    private long hash = 0x243F6A8885A308D3L;

    /** Actor number {@code actor} (a stable index the machine assigns) received {@code message}. */
    public void message(int actor, Object message) {
        mix(actor);
        mix(message.getClass().getName().hashCode());
    }

    @Override
    public void event(int vcpu, long atNanos, TraceEvent what, long arg) {
        mix(vcpu, atNanos, what.text, arg);
    }

    /** A finding is mixed in as an event named after its kind, with argument 0. */
    @Override
    public void finding(int vcpu, long atNanos, FindingKind kind) {
        mix(vcpu, atNanos, kind.name(), 0);
    }

    private void mix(int vcpu, long atNanos, String text, long arg) {
        mix(vcpu);
        mix(atNanos);
        mix(text.hashCode());
        mix(arg);
    }

    private void mix(long v) {
        long h = (hash ^ v) * MULTIPLIER;
        hash = h ^ (h >>> 29);
    }

    /** The hash as 16 hex digits. */
    public String hex() {
        return String.format("%016x", hash);
    }
}
