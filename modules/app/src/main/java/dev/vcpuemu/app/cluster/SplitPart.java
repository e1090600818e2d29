package dev.vcpuemu.app.cluster;

import dev.vcpuemu.engine.run.InputTiming;
import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One node's part of a run over several JVMs, as it sends it to the coordinator when the run
 * ends: its own report (counters, findings, conservation over its own actors), each latency as an
 * encoded HdrHistogram (percentiles do not merge; histograms merge exactly), and its figures for
 * the report's {@code cluster} block. Its per-vCPU rows follow apart, in chunks
 * ({@link Split.Rows}), one per vCPU: a message over Artery's frame size (256 KiB) would be dropped.
 *
 * @param crossSent     round messages this node sent to a coordinator on another JVM (0 on the coordinator's)
 * @param crossReceived round messages it received from there
 * @param barrierWaitNanos wall time between its answer to a round and the next round's arrival, summed
 * @param dropped       messages its cluster system reported dropped ({@code Dropped}: Artery's
 *                      overflowing queues, oversized frames)
 */
public record SplitPart(int index, String node, long pid, List<Integer> guests, int vcpus, double wallSeconds,
                        long simulatedNanos, Map<String, Long> counters, Map<FindingKind, Long> findings,
                        List<Finding> examples, boolean conserved, String conservation, String endReason,
                        RunResult.Fault fault, Map<String, byte[]> latencies, Map<String, Timing> timing,
                        long crossSent, long crossReceived, long barrierWaitNanos, long dropped)
        implements ClusterMessage {

    /** How one kind of input landed on the node: as {@link InputTiming}, its lateness encoded. */
    public record Timing(boolean hostSide, long exact, long late, byte[] lateness) {}

    /** Rows per {@link Split.Rows} chunk: well under Artery's 256 KiB frame at a dozen longs a row. */
    static final int ROWS_PER_CHUNK = 1_000;

    static SplitPart of(int index, String node, List<Integer> guests, RunResult r, long crossSent, long crossReceived,
                        long barrierWaitNanos, long dropped) {
        Map<String, byte[]> latencies = new LinkedHashMap<>();
        r.latencies().forEach((k, l) -> latencies.put(k, encode(l.histogram())));
        Map<String, Timing> timing = new LinkedHashMap<>();
        r.timing().forEach((k, t) -> timing.put(k, new Timing(t.hostSide(), t.exact(), t.late(),
                encode(t.lateness().histogram()))));
        return new SplitPart(index, node, ProcessHandle.current().pid(), guests, r.vcpuTimes().size(), r.wallSeconds(),
                r.simulatedNanos(), r.counters(), r.findings(), r.findingExamples(), r.conservation().held(),
                r.conservation().detail(), r.endReason(), r.fault(), latencies, timing, crossSent,
                crossReceived, barrierWaitNanos, dropped);
    }

    static byte[] encode(Histogram h) {
        ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(b);
        return Arrays.copyOf(b.array(), n);
    }

    static Histogram decode(byte[] bytes) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalArgumentException("a node's histogram does not decode", e);
        }
    }

    /** The latency kinds' summaries of this part alone. */
    Map<String, LatencySummary> latencySummaries() {
        Map<String, LatencySummary> m = new LinkedHashMap<>();
        latencies.forEach((k, b) -> m.put(k, LatencySummary.of(decode(b))));
        return m;
    }

    /** "0, 3, 6": a list of guests as a message names them. */
    static String guestList(List<Integer> guests) {
        return guests.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }
}
