package dev.vcpuemu.model.vcpu;

import java.util.ArrayList;
import java.util.List;

/** The last events of one vCPU, kept as primitives and formatted only when a finding needs them. */
final class EventRing {
    private static final int SIZE = 24;
    private final long[] time = new long[SIZE];
    private final String[] what = new String[SIZE];
    private final long[] arg = new long[SIZE];
    private int next;
    private int count;
    private EventSink sink;
    private int vcpu;

    /** Also passes every event to {@code sink}, as vCPU {@code vcpu}'s. */
    void sink(EventSink sink, int vcpu) {
        this.sink = sink;
        this.vcpu = vcpu;
    }

    void add(long atNanos, String event, long argument) {
        if (sink != null) {
            sink.event(vcpu, atNanos, event, argument);
        }
        time[next] = atNanos;
        what[next] = event;
        arg[next] = argument;
        next = (next + 1) % SIZE;
        count = Math.min(SIZE, count + 1);
    }

    List<String> snapshot() {
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int j = (next - count + i + SIZE) % SIZE;
            out.add(time[j] + "ns " + what[j] + " 0x" + Long.toHexString(arg[j]));
        }
        return out;
    }
}
