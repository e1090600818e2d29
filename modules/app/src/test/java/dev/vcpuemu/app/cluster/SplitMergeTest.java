package dev.vcpuemu.app.cluster;

import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.LatencyRecorders;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report of a run over several JVMs from its nodes' parts (issue 19's merged report). */
class SplitMergeTest {

    private static Histogram values(long from, long to, long step) {
        Histogram h = LatencyRecorders.total();
        for (long v = from; v < to; v += step) {
            h.recordValue(v);
        }
        return h;
    }

    private static Finding finding(FindingKind kind, long at, int guest) {
        return new Finding(kind, 0, at, "x", List.of(), guest);
    }

    private static SplitPart part(int index, List<Integer> guests, long microOps, Histogram swapIn, boolean conserved,
                                  List<Finding> examples, long findings) {
        return new SplitPart(index, "127.0.0.1:" + (2552 + index), 100 + index, guests, 2, 5.0 + index, 40_000_000,
                Map.of("microOps", microOps, "messages", microOps / 10), Map.of(FindingKind.APF_WORD_STOLEN, findings),
                examples, conserved, conserved ? "held here" : "messages: 9 sent = 8 received", "duration", null,
                Map.of("swapIn", SplitPart.encode(swapIn)),
                Map.of("nmi", new SplitPart.Timing(true, 10 * (index + 1), index, SplitPart.encode(values(1, 3, 1)))),
                7, 7, 1_000, 0);
    }

    private static RunResult.VcpuTimes row(int guest, int vcpu) {
        return new RunResult.VcpuTimes(guest, vcpu, new long[] {guest, vcpu});
    }

    @Test
    void countersAndFindingsAddUpLatenciesMergeExactlyAndEveryRowIsThere() {
        Histogram a = values(1_000, 900_000, 1_013);
        Histogram b = values(500_000, 3_000_000, 2_017);
        List<SplitPart> parts = List.of(
                part(0, List.of(0, 2), 1_000, a, true, List.of(finding(FindingKind.APF_WORD_STOLEN, 50, 0),
                        finding(FindingKind.APF_WORD_STOLEN, 10, 2)), 2),
                part(1, List.of(1), 500, b, true, List.of(finding(FindingKind.APF_WORD_STOLEN, 30, 1),
                        finding(FindingKind.APF_WORD_STOLEN, 20, 1)), 5));
        Map<Integer, List<RunResult.VcpuTimes>> rows = Map.of(1, List.of(row(1, 1), row(1, 0)),
                0, List.of(row(0, 0), row(2, 1), row(0, 1), row(2, 0)));
        SplitMerge.CrossNode cross = SplitMerge.crossNode(14, 14, parts);

        RunResult r = SplitMerge.merge(parts, rows, "duration", cross);

        assertEquals(1_500, r.counters().get("microOps"));
        assertEquals(150, r.counters().get("messages"));
        assertEquals(7, r.findings().get(FindingKind.APF_WORD_STOLEN));
        assertEquals(List.of(10L, 20L, 30L), r.findingExamples().stream().map(Finding::atNanos).toList(),
                "the first three of a kind, by virtual time");
        Histogram all = values(1_000, 900_000, 1_013);
        all.add(values(500_000, 3_000_000, 2_017));
        LatencySummary expected = LatencySummary.of(all);
        LatencySummary merged = r.latencies().get("swapIn");
        assertEquals(List.of(expected.count(), expected.p50(), expected.p90(), expected.p99(), expected.p999(), expected.max()),
                List.of(merged.count(), merged.p50(), merged.p90(), merged.p99(), merged.p999(), merged.max()));
        assertEquals(expected.mean(), merged.mean(), 1e-9);
        assertEquals(30, r.timing().get("nmi").exact());
        assertEquals(1, r.timing().get("nmi").late());
        assertEquals(4, r.timing().get("nmi").lateness().count());
        assertEquals(List.of("0/0", "0/1", "1/0", "1/1", "2/0", "2/1"),
                r.vcpuTimes().stream().map(v -> v.guest() + "/" + v.vcpu()).toList());
        assertTrue(r.conservation().held(), r.conservation().detail());
        assertEquals(6.0, r.wallSeconds());
        assertEquals(40_000_000, r.simulatedNanos());
    }

    @Test
    void conservationBreaksWithOneNodesOrWithTheMessagesBetweenJvms() {
        Histogram h = values(1, 10, 1);
        List<SplitPart> held = List.of(part(0, List.of(0), 1, h, true, List.of(), 0), part(1, List.of(1), 1, h, true, List.of(), 0));
        RunResult lostRound = SplitMerge.merge(held, Map.of(), "duration", SplitMerge.crossNode(14, 13, held));
        assertFalse(lostRound.conservation().held());
        assertTrue(lostRound.conservation().detail().contains("between JVMs"), lostRound.conservation().detail());

        List<SplitPart> broken = List.of(part(0, List.of(0), 1, h, true, List.of(), 0), part(1, List.of(1), 1, h, false, List.of(), 0));
        RunResult r = SplitMerge.merge(broken, Map.of(), "duration", SplitMerge.crossNode(14, 14, broken));
        assertFalse(r.conservation().held());
        assertTrue(r.conservation().detail().contains("node 127.0.0.1:2553"), r.conservation().detail());

        SplitMerge.CrossNode dropped = new SplitMerge.CrossNode(14, 14, 14, 14, 1);
        assertFalse(SplitMerge.merge(held, Map.of(), "duration", dropped).conservation().held(), "a Dropped message breaks it");
    }

    @Test
    void aPartialRunSaysWhyAndDoesNotClaimConservation() {
        RunResult r = SplitMerge.partial("node 127.0.0.1:2553 (guests 1, 3) unreachable at 1.000 ms virtual time",
                Map.of("microOps", 7L), 1_000_000, 4.5);
        assertEquals("node 127.0.0.1:2553 (guests 1, 3) unreachable at 1.000 ms virtual time", r.endReason());
        assertFalse(r.conservation().held());
        assertTrue(r.conservation().detail().startsWith("not checked"));
        assertEquals(7, r.counters().get("microOps"));
    }
}
