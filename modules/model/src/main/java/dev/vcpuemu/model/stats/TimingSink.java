package dev.vcpuemu.model.stats;

/**
 * Where a vCPU reports how each input landed (observation only, like {@link LatencySink}).
 * A host-side input is late if it reached the vCPU after the vCPU had passed its due time; a
 * concurrent one is late by how far the receiver was ahead of the sender.
 */
@FunctionalInterface
public interface TimingSink {
    TimingSink NONE = (kind, late, latenessNanos) -> { };

    /**
     * @param late          whether it landed after the boundary where it was due
     * @param latenessNanos how long after its due time it took effect (virtual nanoseconds)
     */
    void landed(InputKind kind, boolean late, long latenessNanos);
}
