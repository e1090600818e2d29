package dev.vcpuemu.engine.det;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;

import java.util.Arrays;

/**
 * The trace of a deterministic run, kept as a running 64-bit hash of every delivered event in
 * order: each message an actor receives (which actor, which message type) and each event of
 * the vCPU models (deliveries, injections, waits, wakes, task switches, findings, with their
 * virtual times and arguments). Equal hashes mean, with overwhelming probability, equal runs;
 * the report's {@code traceHash}.
 *
 * <p>Beside it, one hash per vCPU of that vCPU's own events only, the report's {@code modelHash}
 * (combined in vCPU order): what the guest and host halves did, whatever order the actors' mail
 * took. Where the physics is exact (one vCPU, DESIGN §3) it must not change with an engine knob.
 *
 * <p>Only safe on one thread: the deterministic engine runs every simulation actor on one.
 */
public final class Trace implements EventSink {
    private static final long MULTIPLIER = 0x9E3779B97F4A7C15L;

    private static final long SEED = 0x243F6A8885A308D3L;

    private long hash = SEED;
    private long[] model = new long[0];

    /** Actor number {@code actor} (a stable index the machine assigns) received {@code message}. */
    public void message(int actor, Object message) {
        mix(actor);
        mix(message.getClass().getName().hashCode());
    }

    @Override
    public void event(int vcpu, long atNanos, TraceEvent what, long arg) {
        mix(vcpu, atNanos, what.text, arg);
        mixModel(vcpu, atNanos, what.text.hashCode(), arg);
    }

    /** A finding is mixed in as an event named after its kind, with argument 0. */
    @Override
    public void finding(int vcpu, long atNanos, FindingKind kind) {
        mix(vcpu, atNanos, kind.name(), 0);
        mixModel(vcpu, atNanos, kind.name().hashCode(), 0);
    }

    private void mixModel(int vcpu, long atNanos, int what, long arg) {
        if (vcpu >= model.length) {
            int from = model.length;
            model = Arrays.copyOf(model, vcpu + 1);
            Arrays.fill(model, from, model.length, SEED);
        }
        long h = model[vcpu];
        h = step(h, atNanos);
        h = step(h, what);
        model[vcpu] = step(h, arg);
    }

    private void mix(int vcpu, long atNanos, String text, long arg) {
        mix(vcpu);
        mix(atNanos);
        mix(text.hashCode());
        mix(arg);
    }

    private void mix(long v) {
        hash = step(hash, v);
    }

    private static long step(long hash, long v) {
        long h = (hash ^ v) * MULTIPLIER;
        return h ^ (h >>> 29);
    }

    /** The hash as 16 hex digits. */
    public String hex() {
        return String.format("%016x", hash);
    }

    /** The vCPUs' event hashes combined in vCPU order, as 16 hex digits. */
    public String modelHex() {
        long h = SEED;
        for (long m : model) {
            h = step(h, m);
        }
        return String.format("%016x", h);
    }
}
