package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.stats.LatencySink;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The run's latency histograms, written by every vCPU and paging worker as latencies happen
 * and read by the stats collector once per progress sample as interval histograms. Memory is
 * fixed, whatever the number of vCPUs or the run's length.
 *
 * <p>Each dispatcher thread records into its own HdrHistogram {@link SingleWriterRecorder}s
 * (one per {@link LatencyKind}): the actors a thread runs take turns, so each recorder has a
 * single writer, and recording touches no cache line another core writes. The reader merges
 * the threads' interval histograms. (A recorder shared by all threads would make every
 * record a contended atomic increment; per-vCPU histograms would cost tens of kilobytes per
 * vCPU.)
 *
 * <p>This is state the actors share besides the machine's memory and sleeper table (DESIGN
 * §2.2): it is written only, never read by anything that decides what the simulation does, so
 * it cannot change a run.
 */
public final class LatencyRecorders implements LatencySink {
    /** Longest latency kept: an hour of virtual time; longer ones are counted at this value. */
    static final long HIGHEST = 3_600_000_000_000L;
    private static final int DIGITS = 2;

    private static final int KINDS = LatencyKind.values().length;

    /**
     * One thread's recorders, a recorder per kind made at the kind's first value on that thread:
     * the writer reads its plain array, the reader the atomic one, through which a new recorder is
     * safely published (the reader samples during the run, not only after it).
     */
    private static final class PerThread {
        final SingleWriterRecorder[] mine = new SingleWriterRecorder[KINDS];
        final AtomicReferenceArray<SingleWriterRecorder> shared = new AtomicReferenceArray<>(KINDS);
    }

    /**
     * One-thread mode (the deterministic engine runs every actor on one thread): plain histograms,
     * filled by the actors and handed over whole at each read, with no recorder's double buffers.
     * Null in the concurrent engine.
     */
    private final Histogram[] plain;

    private final List<PerThread> perThread = new CopyOnWriteArrayList<>();
    private final ThreadLocal<PerThread> local = ThreadLocal.withInitial(() -> {
        PerThread t = new PerThread();
        perThread.add(t);
        return t;
    });
    /** Per recorder, the interval histogram it hands back next time instead of allocating one (reader only). */
    private final Map<SingleWriterRecorder, Histogram> recycled = new IdentityHashMap<>();
    /** An empty histogram for a kind with nothing recorded: shared, never written. */
    public static final Histogram EMPTY = total();

    /** For actors on several threads (the concurrent engine). */
    public LatencyRecorders() {
        this(false);
    }

    private LatencyRecorders(boolean oneThread) {
        plain = oneThread ? new Histogram[KINDS] : null;
    }

    /** For actors that all run on one thread, which also reads (the deterministic engine). */
    public static LatencyRecorders oneThread() {
        return new LatencyRecorders(true);
    }

    @Override
    public void record(LatencyKind kind, long nanos) {
        long value = Math.max(1, Math.min(HIGHEST, nanos));
        if (plain != null) {
            Histogram h = plain[kind.ordinal()];
            if (h == null) {
                h = total();
                plain[kind.ordinal()] = h;
            }
            h.recordValue(value);
            return;
        }
        PerThread t = local.get();
        SingleWriterRecorder r = t.mine[kind.ordinal()];
        if (r == null) {
            r = recorder();
            t.mine[kind.ordinal()] = r;
            t.shared.set(kind.ordinal(), r);
        }
        r.recordValue(value);
    }

    /**
     * What was recorded since the last call, per kind, over all threads: a fresh histogram the
     * caller owns for each kind that recorded something, a shared empty one (read it, never
     * write it) for the others. Why: a histogram is about 37 KB of counts; explore's short runs
     * took most of their time allocating empty ones, ten samples a run.
     */
    public Map<LatencyKind, Histogram> interval() {
        Map<LatencyKind, Histogram> m = new EnumMap<>(LatencyKind.class);
        drainInto(m);
        for (LatencyKind k : LatencyKind.values()) {
            m.putIfAbsent(k, EMPTY);
        }
        return m;
    }

    /**
     * Adds what was recorded since the last call straight into {@code totals} (a histogram made
     * per kind at its first value): for a run whose intervals nobody reads.
     */
    public void drainInto(Map<LatencyKind, Histogram> totals) {
        LatencyKind[] kinds = LatencyKind.values();
        if (plain != null) {
            for (int i = 0; i < KINDS; i++) {
                Histogram h = plain[i];
                if (h != null) {
                    plain[i] = null;
                    Histogram sum = totals.putIfAbsent(kinds[i], h);
                    if (sum != null) {
                        sum.add(h);
                    }
                }
            }
            return;
        }
        for (PerThread thread : perThread) {
            for (int i = 0; i < KINDS; i++) {
                SingleWriterRecorder r = thread.shared.get(i);
                if (r == null) {
                    continue;
                }
                Histogram h = r.getIntervalHistogram(recycled.get(r));
                recycled.put(r, h);
                if (h.getTotalCount() > 0) {
                    totals.computeIfAbsent(kinds[i], k -> total()).add(h);
                }
            }
        }
    }

    /** A recorder shaped like every latency histogram of the run. */
    static SingleWriterRecorder recorder() {
        return new SingleWriterRecorder(1, HIGHEST, DIGITS);
    }

    /** An empty histogram shaped like the recorders', to add intervals into. */
    public static Histogram total() {
        return new Histogram(1, HIGHEST, DIGITS);
    }
}
