package dev.vcpuemu.model.stats;

/**
 * The latencies the model reports, in virtual nanoseconds, with their report keys. Each is
 * observation only: recorded as it happens, never read by the model.
 */
public enum LatencyKind {
    /** From the host's async not-present (the work item issued) to its page-ready being sent. */
    NOT_PRESENT_TO_PAGE_READY("notPresentToPageReady"),
    /** A paging worker's service time for one swap-in (the drawn latency). */
    SWAP_IN("swapIn"),
    /** A guest task's wait for a page-ready: from entering the wait to leaving it (sleep or halt path). */
    TASK_SLEEP("taskSleep"),
    /** A host synthetic halt (§2.0 step 6): from the halt to the entry that ends it. */
    SYNTHETIC_HALT("syntheticHalt"),
    /** A synchronous fault: the vCPU is blocked for the swap-in (§2.5). */
    SYNCHRONOUS_STALL("synchronousStall"),
    /** The guest's NMI handler, from delivery to its exit (a latched NMI extends the same run). */
    NMI_HANDLER("nmiHandler");

    public final String key;

    LatencyKind(String key) {
        this.key = key;
    }
}
