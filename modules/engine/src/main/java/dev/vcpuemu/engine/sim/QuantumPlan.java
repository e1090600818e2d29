package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.run.RunControl;

/**
 * The time-keeper's decisions, apart from its messages (DESIGN §3): after each round, what the
 * next one is. A round is a quantum (every participant ticked) or a priming round (only the
 * producers of host-side inputs emit what falls due in the quantum about to open, before a
 * quantum that time jumped to and before the first). What decides it is what the round's
 * participants answered, taken together: the earliest time any of them has something to do,
 * whether all are quiescent, a guest's death; and the run's bounds in {@link RunControl}.
 *
 * <p>The {@link TimeKeeper} of a one-JVM run feeds it its participants' answers. In a run over
 * several JVMs each node's time-keeper answers for its own participants and one plan, on the
 * coordinator, decides for all: the answers combine the same way (earliest, all, first).
 */
public final class QuantumPlan {

    /** The next round. */
    public sealed interface Next permits Prime, Open, Finish {}

    /** The producers emit what falls due before {@code emitBefore} (the end of the quantum at {@code start}). */
    public record Prime(long start, long emitBefore) implements Next {}

    /**
     * The quantum [{@code start}, {@code end}) opens: every vCPU is ticked to {@code end}, and the
     * producers emit what falls due before {@code emitBefore} (the next quantum's end).
     *
     * @param wantStats the participants answer with their counters (a progress sample's quantum)
     */
    public record Open(long start, long end, boolean wantStats, long emitBefore) implements Next {}

    /** The run ends before the quantum at {@code start}, for {@code endReason}. */
    public record Finish(long start, String endReason) implements Next {}

    private final long quantum;
    private final RunControl control;
    private final boolean producers;
    private long start;
    private long end;
    private boolean priming;
    private long nextProgressNanos;
    private String deathReason;
    private long minNextDue;
    private boolean allQuiescent;

    /** @param producers whether any participant emits host-side inputs (else there are no priming rounds) */
    public QuantumPlan(long quantumNanos, RunControl control, boolean producers) {
        this.quantum = quantumNanos;
        this.control = control;
        this.producers = producers;
    }

    /** The first round, as the run starts (after {@link RunControl#start()}). */
    public Next begin() {
        nextProgressNanos = control.progressIntervalNanos();
        return primeOrOpen();
    }

    /**
     * One participant's answer (or one node's, its participants' combined).
     *
     * @param nextDueNanos the earliest virtual time at which it has anything to do
     * @param quiescent nothing will ever happen there without outside input
     * @param deathReason non-null when a guest died
     */
    public void answer(long nextDueNanos, boolean quiescent, String deathReason) {
        if (deathReason != null && this.deathReason == null) {
            this.deathReason = deathReason;
        }
        minNextDue = Math.min(minNextDue, nextDueNanos);
        allQuiescent &= quiescent;
    }

    /** The round after the one whose last answer just came. */
    public Next next() {
        if (priming) {
            priming = false;
            return open();
        }
        long next = nextStart();
        boolean jumped = next > end;
        start = next;
        return jumped ? primeOrOpen() : open();
    }

    /**
     * Where the next quantum starts: right after this one, or, when nobody has anything due
     * before a later quantum, at that quantum (time jumps over empty quanta, on the same grid).
     */
    private long nextStart() {
        if (minNextDue <= end || minNextDue == Long.MAX_VALUE) {
            return end;
        }
        return Math.min(end + (minNextDue - end) / quantum * quantum, control.virtualEnd());
    }

    /**
     * Before the quantum at {@link #start}: the producers emit what falls due in it (they have
     * emitted up to wherever the last quantum's look ahead reached), then it opens. Without
     * producers, or once the run is over, it opens (or ends) at once.
     */
    private Next primeOrOpen() {
        if (!producers || endReason(control.progressClock(start)) != null) {
            return open();
        }
        priming = true;
        minNextDue = Long.MAX_VALUE;
        return new Prime(start, quantumEnd(start));
    }

    private Next open() {
        // One read of the clock decides both: a wall-clock run's end and its sample agree.
        long clock = control.progressClock(start);
        String endReason = endReason(clock);
        if (endReason != null) {
            return new Finish(start, endReason);
        }
        boolean wantStats = clock >= nextProgressNanos;
        if (wantStats) {
            nextProgressNanos = control.nextProgressNanos(clock);
        }
        end = quantumEnd(start);
        minNextDue = Long.MAX_VALUE;
        allQuiescent = true;
        return new Open(start, end, wantStats, quantumEnd(end));
    }

    /** The end of the quantum that starts at {@code s}: a deterministic run stops at exactly its duration. */
    private long quantumEnd(long s) {
        return Math.min(s + quantum, control.virtualEnd());
    }

    private String endReason(long clock) {
        return deathReason != null ? deathReason
                : allQuiescent ? RunControl.QUIESCENT
                : control.endReason(clock);
    }
}
