package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.finding.FindingKind;

/** Counts the events and findings told to it: the size of an interleaving (shrinking reports it). */
public final class EventCounter implements EventSink {
    private long count;

    @Override
    public void event(int vcpu, long atNanos, TraceEvent what, long arg) {
        count++;
    }

    @Override
    public void finding(int vcpu, long atNanos, FindingKind kind) {
        count++;
    }

    public long count() {
        return count;
    }
}
