package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.stats.LatencyKind;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The run's latency recorders give the same histograms in both modes (per-thread recorders for
 * the concurrent engine, plain histograms for the deterministic one): each interval holds what
 * was recorded since the last read, the totals hold everything, and a kind without values
 * reads as the shared empty histogram.
 */
class LatencyRecordersTest {

    private static void record(LatencyRecorders r, long from) {
        for (long v = from; v < from + 100; v++) {
            r.record(LatencyKind.SWAP_IN, v * 1_000);
        }
        r.record(LatencyKind.NMI_HANDLER, 700);
    }

    @Test
    void bothModesGiveTheSameIntervalsAndTotals() throws Exception {
        for (LatencyRecorders r : new LatencyRecorders[] {LatencyRecorders.perThread(), LatencyRecorders.oneThread()}) {
            record(r, 1);
            Map<LatencyKind, Histogram> first = r.interval();
            assertEquals(100, first.get(LatencyKind.SWAP_IN).getTotalCount());
            assertEquals(1, first.get(LatencyKind.NMI_HANDLER).getTotalCount());
            assertSame(LatencyRecorders.EMPTY, first.get(LatencyKind.TASK_SLEEP), "nothing recorded: the shared empty one");
            assertEquals(0, r.interval().get(LatencyKind.SWAP_IN).getTotalCount(), "an interval starts empty");

            record(r, 1_000);
            Map<LatencyKind, Histogram> totals = new EnumMap<>(LatencyKind.class);
            totals.put(LatencyKind.SWAP_IN, first.get(LatencyKind.SWAP_IN));
            r.drainInto(totals);
            Histogram swapIn = totals.get(LatencyKind.SWAP_IN);
            assertEquals(200, swapIn.getTotalCount(), "drained into the total already there");
            assertEquals(1_099_000, swapIn.getMaxValue(), swapIn.getMaxValue() / 100.0);
            assertEquals(1, totals.get(LatencyKind.NMI_HANDLER).getTotalCount());
            assertEquals(0, r.interval().get(LatencyKind.NMI_HANDLER).getTotalCount());
        }
    }

    @Test
    void theConcurrentModeSumsEveryThreadsValues() throws Exception {
        LatencyRecorders r = LatencyRecorders.perThread();
        Thread other = new Thread(() -> record(r, 1));
        other.start();
        other.join();
        record(r, 1);
        assertEquals(200, r.interval().get(LatencyKind.SWAP_IN).getTotalCount());
    }
}
