package dev.vcpuemu.model.memory;

/**
 * The host's view of guest frames: resident or swapped out (DESIGN §1.1). It models a shared
 * hardware-like structure (the EPT/host page tables), so it is the one piece of state that the
 * vCPUs, the paging workers and the reclaimer share; implementations must be thread-safe.
 */
public interface HostMemory {
    int frames();

    boolean resident(int gfn);

    /** Brings a frame in; returns true if it was not resident. */
    boolean makeResident(int gfn);

    /** Evicts a frame; returns true if it was resident. */
    boolean evict(int gfn);

    int residentCount();

    /** Resident frames among {@code from} (inclusive) to {@code to} (exclusive). */
    int residentIn(int from, int to);
}
