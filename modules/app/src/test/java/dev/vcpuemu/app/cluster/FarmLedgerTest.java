package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.Tally;
import dev.vcpuemu.model.finding.FindingKind;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The farm's bookkeeping under scripted orders of events: the orders a real farm produces
 * only now and then (a higher failing run reported before a lower one, a range reported twice).
 */
class FarmLedgerTest {
    private final Tally tally = new Tally();
    private final FarmLedger ledger = new FarmLedger(100, tally);

    private static Tally.Counts runs(long n) {
        return new Tally.Counts(n, Map.of(), Map.of(), 0, 0, n * 1_000_000);
    }

    private static Farm.RangeDone done(Farm.Range r, long ran, double seconds, Long failingIndex) {
        Farm.FailedRun f = failingIndex == null ? null
                : new Farm.FailedRun(failingIndex, 1000 + failingIndex, "hash" + failingIndex, "finding: X", "n");
        Tally.Counts c = failingIndex == null ? runs(ran)
                : new Tally.Counts(ran, Map.of(FindingKind.APF_WORD_STOLEN, 1L), Map.of(FindingKind.APF_WORD_STOLEN, 1L),
                0, 0, ran * 1_000_000);
        return new Farm.RangeDone("n", r, c, seconds, f, null);
    }

    @Test
    void nothingGoesOutBeforeTheSearchBegins() {
        ledger.join("n", 1, 2);
        assertNull(ledger.take());
        ledger.begin();
        assertEquals(new Farm.Range(0, 1), ledger.take());
    }

    @Test
    void aLowerFailingRunReportedLaterIsTheOneReportedAndLowersTheStop() {
        ledger.begin();
        Farm.Range r0 = ledger.take();
        Farm.Range r1 = ledger.take();
        assertEquals(new Farm.Range(1, 1), r1);
        // Run 1 fails first: nodes stop from 1 on, but run 0 is still under way and must finish.
        assertEquals(OptionalLong.of(1), ledger.done(done(r1, 1, 0.01, 1L)));
        assertTrue(ledger.stopping());
        assertNull(ledger.take(), "no range after a failure");
        assertFalse(ledger.over(), "run 0, below the failing one, is still running");
        // Run 0 fails too: the bound falls to 0, and that run is the answer.
        assertEquals(OptionalLong.of(0), ledger.done(done(r0, 1, 0.01, 0L)));
        assertTrue(ledger.over());
        assertEquals(0, ledger.failure().index());
        assertEquals(2, ledger.failing());
    }

    @Test
    void aHigherFailingRunDoesNotRaiseTheStop() {
        ledger.begin();
        Farm.Range r0 = ledger.take();
        Farm.Range r1 = ledger.take();
        assertEquals(OptionalLong.of(0), ledger.done(done(r0, 1, 0.01, 0L)));
        assertEquals(OptionalLong.empty(), ledger.done(done(r1, 1, 0.01, 1L)));
        assertEquals(0, ledger.below());
        assertEquals(0, ledger.failure().index());
    }

    @Test
    void aRangeReportedTwiceIsCountedOnce() {
        ledger.join("n", 1, 1);
        ledger.begin();
        Farm.Range r0 = ledger.take();
        ledger.done(done(r0, 1, 0.01, null));
        ledger.done(done(r0, 1, 0.01, null));
        assertEquals(1, tally.runs());
        assertEquals(1, ledger.nodeTable().get(0).runs());
    }

    @Test
    void rangesAreSizedToHalfASecondAtTheSpeedSeenAndEndAtTheLastRun() {
        ledger.begin();
        Farm.Range first = ledger.take();
        assertEquals(1, first.count());
        ledger.done(done(first, 1, 0.01, null));
        assertEquals(new Farm.Range(1, 50), ledger.take());
        Farm.Range last = ledger.take();
        assertEquals(new Farm.Range(51, 49), last, "never past the runs asked for");
        assertNull(ledger.take());
        FarmLedger fast = new FarmLedger(10_000, new Tally());
        fast.begin();
        fast.done(done(fast.take(), 1, 1e-6, null));
        assertEquals(FarmLedger.MAX_RANGE, fast.take().count());
    }

    @Test
    void theSearchIsOverWhenEveryRunIsBackOrAtAHaltWhenNothingIsUnderWay() {
        FarmLedger small = new FarmLedger(2, new Tally());
        small.begin();
        Farm.Range a = small.take();
        Farm.Range b = small.take();
        small.done(done(a, 1, 0.01, null));
        assertFalse(small.over());
        small.done(done(b, 1, 0.01, null));
        assertTrue(small.over());
        assertNull(small.failure());

        ledger.begin();
        Farm.Range r = ledger.take();
        assertEquals(OptionalLong.of(0), ledger.halt());
        assertFalse(ledger.over());
        ledger.done(done(r, 0, 0, null));
        assertTrue(ledger.over());
    }

    @Test
    void aNodesErrorStopsEverything() {
        ledger.begin();
        Farm.Range r = ledger.take();
        assertEquals(OptionalLong.of(0), ledger.done(new Farm.RangeDone("n2", null, Tally.Counts.NONE, 0, null, "boom")));
        assertEquals("node n2: boom", ledger.error());
        assertFalse(ledger.over(), "the range under way comes back first");
        ledger.done(done(r, 1, 0.01, null));
        assertTrue(ledger.over());
    }
}
