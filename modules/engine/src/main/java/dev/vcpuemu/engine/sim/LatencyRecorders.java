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
 * <p>Two kinds, one per engine. {@link #perThread()} (the concurrent engine): each dispatcher
 * thread records into its own HdrHistogram {@link SingleWriterRecorder}s (one per
 * {@link LatencyKind}): the actors a thread runs take turns, so each recorder has a single
 * writer, and recording touches no cache line another core writes; the reader merges the
 * threads' interval histograms. (A recorder shared by all threads would make every record a
 * contended atomic increment; per-vCPU histograms would cost tens of kilobytes per vCPU.)
 * {@link #oneThread()} (the deterministic engine, every actor on one thread): plain histograms,
 * handed over whole at each read, without a recorder's double buffers. A histogram is about
 * 37 KB of counts, and explore's short runs took most of their time allocating them: both make
 * a kind's histograms at its first value only.
 *
 * <p>This is state the actors share besides the machine's memory and sleeper table (DESIGN
 * §2.2): it is written only, never read by anything that decides what the simulation does, so
 * it cannot change a run.
 */
public abstract sealed class LatencyRecorders implements LatencySink {
    /** Longest latency kept: an hour of virtual time; longer ones are counted at this value. */
    static final long HIGHEST = 3_600_000_000_000L;
    private static final int DIGITS = 2;
    private static final int KINDS = LatencyKind.values().length;
    private static final LatencyKind[] BY_ORDINAL = LatencyKind.values();

    /** An empty histogram for a kind with nothing recorded: shared, never written. */
    public static final Histogram EMPTY = total();

    /** For actors on several threads (the concurrent engine). */
    public static LatencyRecorders perThread() {
        return new PerThread();
    }

    /** For actors that all run on one thread, which also reads (the deterministic engine). */
    public static LatencyRecorders oneThread() {
        return new OneThread();
    }

    /**
     * What was recorded since the last call, per kind: a fresh histogram the caller owns for each
     * kind that recorded something, {@link #EMPTY} (read it, never write it) for the others.
     */
    public final Map<LatencyKind, Histogram> interval() {
        Map<LatencyKind, Histogram> m = new EnumMap<>(LatencyKind.class);
        drainInto(m);
        for (LatencyKind k : BY_ORDINAL) {
            m.putIfAbsent(k, EMPTY);
        }
        return m;
    }

    /**
     * Adds what was recorded since the last call into {@code totals}, whose histogram of a kind is
     * made (or handed over) at the kind's first value: for a run whose intervals nobody reads.
     */
    public abstract void drainInto(Map<LatencyKind, Histogram> totals);

    /** A latency as the histograms keep it: at least 1 ns, at most {@link #HIGHEST}. */
    static long clamp(long nanos) {
        return Math.max(1, Math.min(HIGHEST, nanos));
    }

    /** A recorder shaped like every latency histogram of the run. */
    static SingleWriterRecorder recorder() {
        return new SingleWriterRecorder(1, HIGHEST, DIGITS);
    }

    /** An empty histogram shaped like the recorders', to add intervals into. */
    public static Histogram total() {
        return new Histogram(1, HIGHEST, DIGITS);
    }

    private static void add(Map<LatencyKind, Histogram> totals, int kind, Histogram h) {
        totals.computeIfAbsent(BY_ORDINAL[kind], k -> total()).add(h);
    }

    /** The concurrent engine's: a recorder per thread and kind. */
    private static final class PerThread extends LatencyRecorders {
        /**
         * One thread's recorders, made at a kind's first value on that thread: the writer reads
         * its plain array, the reader the atomic one, through which a new recorder is safely
         * published (the reader samples during the run, not only after it).
         */
        private static final class Slots {
            final SingleWriterRecorder[] mine = new SingleWriterRecorder[KINDS];
            final AtomicReferenceArray<SingleWriterRecorder> shared = new AtomicReferenceArray<>(KINDS);
        }

        private final List<Slots> threads = new CopyOnWriteArrayList<>();
        private final ThreadLocal<Slots> local = ThreadLocal.withInitial(() -> {
            Slots t = new Slots();
            threads.add(t);
            return t;
        });
        /** Per recorder, the interval histogram it hands back next time instead of allocating one (reader only). */
        private final Map<SingleWriterRecorder, Histogram> recycled = new IdentityHashMap<>();

        @Override
        public void record(LatencyKind kind, long nanos) {
            Slots t = local.get();
            SingleWriterRecorder r = t.mine[kind.ordinal()];
            if (r == null) {
                r = recorder();
                t.mine[kind.ordinal()] = r;
                t.shared.set(kind.ordinal(), r);
            }
            r.recordValue(clamp(nanos));
        }

        @Override
        public void drainInto(Map<LatencyKind, Histogram> totals) {
            for (Slots thread : threads) {
                for (int i = 0; i < KINDS; i++) {
                    SingleWriterRecorder r = thread.shared.get(i);
                    if (r == null) {
                        continue;
                    }
                    Histogram h = r.getIntervalHistogram(recycled.get(r));
                    recycled.put(r, h);
                    if (h.getTotalCount() > 0) {
                        add(totals, i, h);
                    }
                }
            }
        }
    }

    /** The deterministic engine's: plain histograms, given away at each read. */
    private static final class OneThread extends LatencyRecorders {
        private final Histogram[] filling = new Histogram[KINDS];

        @Override
        public void record(LatencyKind kind, long nanos) {
            Histogram h = filling[kind.ordinal()];
            if (h == null) {
                h = total();
                filling[kind.ordinal()] = h;
            }
            h.recordValue(clamp(nanos));
        }

        @Override
        public void drainInto(Map<LatencyKind, Histogram> totals) {
            for (int i = 0; i < KINDS; i++) {
                Histogram h = filling[i];
                if (h != null) {
                    filling[i] = null;
                    if (totals.putIfAbsent(BY_ORDINAL[i], h) != null) {
                        add(totals, i, h);
                    }
                }
            }
        }
    }
}
