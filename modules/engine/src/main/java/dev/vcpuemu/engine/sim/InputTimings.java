package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.run.InputTiming;
import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.model.stats.InputKind;
import dev.vcpuemu.model.stats.TimingSink;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * How every input of a run landed (the report's {@code timing} block, DESIGN §3): per
 * {@link InputKind}, how many landed at their due boundary and how many late, and how late.
 * As {@link LatencyRecorders}, each dispatcher thread writes its own counts and recorders, and
 * the result is read once when the run is over: written only, it cannot change a run.
 */
public final class InputTimings implements TimingSink {
    private static final int KINDS = InputKind.values().length;

    /** One thread's counts and lateness recorders (a recorder is made at its kind's first late input). */
    private static final class PerThread {
        final long[] exact = new long[KINDS];
        final long[] late = new long[KINDS];
        final SingleWriterRecorder[] lateness = new SingleWriterRecorder[KINDS];
    }

    private final List<PerThread> perThread = new CopyOnWriteArrayList<>();
    private final ThreadLocal<PerThread> local = ThreadLocal.withInitial(() -> {
        PerThread t = new PerThread();
        perThread.add(t);
        return t;
    });

    @Override
    public void landed(InputKind kind, boolean late, long latenessNanos) {
        PerThread t = local.get();
        int k = kind.ordinal();
        if (late) {
            t.late[k]++;
            if (t.lateness[k] == null) {
                t.lateness[k] = LatencyRecorders.recorder();
            }
            t.lateness[k].recordValue(LatencyRecorders.clamp(latenessNanos));
        } else {
            t.exact[k]++;
        }
    }

    /** The totals, by report key; only to be read once the actors have stopped writing. */
    public Map<String, InputTiming> totals() {
        Map<String, InputTiming> m = new LinkedHashMap<>();
        for (InputKind kind : InputKind.values()) {
            int k = kind.ordinal();
            long exact = 0;
            long late = 0;
            Histogram h = LatencyRecorders.EMPTY;
            for (PerThread t : perThread) {
                exact += t.exact[k];
                late += t.late[k];
                if (t.lateness[k] != null) {
                    h = h == LatencyRecorders.EMPTY ? LatencyRecorders.total() : h;
                    h.add(t.lateness[k].getIntervalHistogram());
                }
            }
            m.put(kind.key, new InputTiming(kind.hostSide, exact, late, LatencySummary.of(h)));
        }
        return m;
    }
}
