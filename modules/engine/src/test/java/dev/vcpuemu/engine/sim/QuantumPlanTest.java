package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.run.RunControl;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.PrimitiveIterator;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The time-keeper's decisions, scripted answer by answer (no actor system). */
class QuantumPlanTest {
    private static final long Q = 20_000;

    private static QuantumPlan plan(Duration duration, boolean producers) {
        RunControl control = RunControl.virtualTime(duration, Duration.ofMillis(1));
        control.start();
        return new QuantumPlan(Q, control, producers);
    }

    @Test
    void primesBeforeTheFirstQuantumThenOpensItWithTheProducersOneQuantumAhead() {
        QuantumPlan p = plan(Duration.ofMillis(10), true);
        assertEquals(new QuantumPlan.Prime(0, Q), p.begin());
        p.answer(Long.MAX_VALUE, true, null);
        assertEquals(new QuantumPlan.Open(0, Q, false, 2 * Q), p.next());
        p.answer(5_000, false, null);
        assertEquals(new QuantumPlan.Open(Q, 2 * Q, false, 3 * Q), p.next(), "something due: the next quantum follows");
    }

    @Test
    void timeJumpsOnTheGridOverEmptyQuantaAndPrimesTheQuantumItJumpsTo() {
        QuantumPlan p = plan(Duration.ofMillis(10), true);
        p.begin();
        p.answer(Long.MAX_VALUE, true, null);
        p.next();
        p.answer(7 * Q + 123, false, null);
        p.answer(Long.MAX_VALUE, false, null);
        assertEquals(new QuantumPlan.Prime(7 * Q, 8 * Q), p.next(), "the earliest answer decides: the quantum holding 7Q+123");
        p.answer(Long.MAX_VALUE, false, null);
        assertEquals(new QuantumPlan.Open(7 * Q, 8 * Q, false, 9 * Q), p.next());
    }

    @Test
    void withoutProducersThereIsNoPrimingRound() {
        QuantumPlan p = plan(Duration.ofMillis(10), false);
        assertEquals(new QuantumPlan.Open(0, Q, false, 2 * Q), p.begin());
        p.answer(3 * Q, false, null);
        assertEquals(new QuantumPlan.Open(3 * Q, 4 * Q, false, 5 * Q), p.next());
    }

    @Test
    void allQuiescentEndsTheRunOneQuiescentDoesNot() {
        QuantumPlan p = plan(Duration.ofMillis(10), false);
        p.begin();
        p.answer(Q, true, null);
        p.answer(Q, false, null);
        assertEquals(new QuantumPlan.Open(Q, 2 * Q, false, 3 * Q), p.next());
        p.answer(Long.MAX_VALUE, true, null);
        p.answer(Long.MAX_VALUE, true, null);
        assertEquals(new QuantumPlan.Finish(2 * Q, RunControl.QUIESCENT), p.next());
    }

    @Test
    void theFirstDeathEndsTheRun() {
        QuantumPlan p = plan(Duration.ofMillis(10), false);
        p.begin();
        p.answer(Q, false, "guest panic: a");
        p.answer(Q, false, "guest panic: b");
        assertEquals(new QuantumPlan.Finish(Q, "guest panic: a"), p.next());
    }

    @Test
    void aDeterministicRunsLastQuantumEndsAtExactlyItsDurationAndSamplesFallDueByVirtualTime() {
        QuantumPlan p = plan(Duration.ofNanos(50_000), false);
        assertEquals(new QuantumPlan.Open(0, Q, false, 2 * Q), p.begin());
        p.answer(0, false, null);
        assertEquals(new QuantumPlan.Open(Q, 2 * Q, false, 50_000), p.next());
        p.answer(0, false, null);
        assertEquals(new QuantumPlan.Open(2 * Q, 50_000, false, 50_000), p.next());
        p.answer(0, false, null);
        assertEquals(new QuantumPlan.Finish(50_000, RunControl.DURATION), p.next());

        QuantumPlan sampled = plan(Duration.ofMillis(5), false);
        long start = -1;
        for (QuantumPlan.Next n = sampled.begin(); n instanceof QuantumPlan.Open o; n = sampled.next()) {
            assertEquals(o.start() > 0 && o.start() % 1_000_000 == 0, o.wantStats(), "a sample at every whole millisecond: " + o);
            start = o.start();
            sampled.answer(0, false, null);
        }
        assertEquals(5_000_000 - Q, start);
    }

    @Test
    void aWallClockSampleDueAtTheDurationIsLeftToTheRunsEnd() {
        // 30 ms at 3 ms: one read of the clock per quantum decides both its end and its sample.
        // Were the clock read again for the sample, it could read past the end (30.001 ms here)
        // and the end would then add an extra, empty interval after it.
        PrimitiveIterator.OfLong reads = LongStream.of(0, 2_999_000, 30_001_000, 30_002_000).iterator();
        RunControl control = RunControl.wallClock(Duration.ofMillis(30), Duration.ofMillis(3), reads::nextLong);
        control.start();
        QuantumPlan p = new QuantumPlan(Q, control, false);
        assertEquals(new QuantumPlan.Open(0, Q, false, 2 * Q), p.begin(), "no sample at 30.001 ms of a 30 ms run");
        p.answer(0, false, null);
        assertEquals(new QuantumPlan.Finish(Q, RunControl.DURATION), p.next());
    }

    @Test
    void aWallClockSampleFallsDueOnTheGridBeforeTheDuration() {
        PrimitiveIterator.OfLong reads = LongStream.of(0, 3_000_500, 3_001_000).iterator();
        RunControl control = RunControl.wallClock(Duration.ofMillis(30), Duration.ofMillis(3), reads::nextLong);
        control.start();
        QuantumPlan p = new QuantumPlan(Q, control, false);
        assertEquals(new QuantumPlan.Open(0, Q, true, 2 * Q), p.begin(), "3.0005 ms: the sample of the first interval");
    }
}
