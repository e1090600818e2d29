package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.finding.FindingKind;

import java.util.ArrayList;
import java.util.List;

/**
 * The last events of one vCPU, kept as primitives and formatted only when a finding needs them;
 * each is also passed on to a sink, if one is set.
 */
public final class EventRing {
    private static final int SIZE = 24;
    private final long[] time = new long[SIZE];
    private final String[] what = new String[SIZE];
    private final long[] arg = new long[SIZE];
    private int next;
    private int count;
    private EventSink sink;
    private int vcpu;

    /** Also passes every event to {@code sink} (null: none), as vCPU {@code vcpu}'s. */
    public void sink(EventSink sink, int vcpu) {
        this.sink = sink;
        this.vcpu = vcpu;
    }

    public void add(long atNanos, TraceEvent event, long argument) {
        if (sink != null) {
            sink.event(vcpu, atNanos, event, argument);
        }
        keep(atNanos, event.text, argument);
    }

    /** A finding, shown among the events under its kind's name. */
    public void finding(long atNanos, FindingKind kind) {
        if (sink != null) {
            sink.finding(vcpu, atNanos, kind);
        }
        keep(atNanos, kind.name(), 0);
    }

    private void keep(long atNanos, String text, long argument) {
        time[next] = atNanos;
        what[next] = text;
        arg[next] = argument;
        next = (next + 1) % SIZE;
        count = Math.min(SIZE, count + 1);
    }

    /** The kept events, oldest first, as "123ns deliver NMI 0x2". */
    public List<String> snapshot() {
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int j = (next - count + i + SIZE) % SIZE;
            out.add(time[j] + "ns " + what[j] + " 0x" + Long.toHexString(arg[j]));
        }
        return out;
    }
}
