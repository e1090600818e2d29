package dev.vcpuemu.model.stats;

import java.util.LinkedHashMap;
import java.util.Map;

/** A mutable set of {@link Counter}s owned by one actor; snapshots travel as copies. */
public final class Counters {
    private final long[] values = new long[Counter.values().length];

    public void inc(Counter c) {
        values[c.ordinal()]++;
    }

    public void add(Counter c, long n) {
        values[c.ordinal()] += n;
    }

    public long get(Counter c) {
        return values[c.ordinal()];
    }

    public void addAll(Counters other) {
        for (int i = 0; i < values.length; i++) {
            values[i] += other.values[i];
        }
    }

    public Counters copy() {
        Counters c = new Counters();
        System.arraycopy(values, 0, c.values, 0, values.length);
        return c;
    }

    /** Report order is declaration order. */
    public Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            m.put(c.key, values[c.ordinal()]);
        }
        return m;
    }
}
