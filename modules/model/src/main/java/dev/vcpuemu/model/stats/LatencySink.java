package dev.vcpuemu.model.stats;

/** Where the model reports each latency as it happens (the engine keeps histograms of them). */
@FunctionalInterface
public interface LatencySink {
    LatencySink NONE = (kind, nanos) -> { };

    void record(LatencyKind kind, long nanos);
}
