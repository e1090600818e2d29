package dev.vcpuemu.model.stats;

/**
 * The inputs a vCPU receives from outside, as the report's {@code timing} block counts them
 * (DESIGN §3). Host-side inputs have lookahead: each carries its due virtual time and must reach
 * its vCPU before that time, so that it lands at exactly the boundary where it would on hardware.
 * The others are genuinely concurrent: they come from another vCPU within the quantum, and take
 * effect when they arrive, within at most a quantum of skew.
 */
public enum InputKind {
    /** An NMI from an NMI source. */
    NMI("nmi", true),
    /** A paging worker's completion of a swap-in (reference §1.6). */
    COMPLETION("completion", true),
    /** A host reclaimer's eviction of a frame. */
    EVICTION("eviction", true),
    /** A reschedule IPI from another vCPU that woke one of this vCPU's waiters. */
    RESCHEDULE_IPI("rescheduleIpi", false),
    /** host.bugs.page-ready-to-other-vcpu: a page-ready another vCPU's host handed over. */
    PAGE_READY_FROM_VCPU("pageReadyFromVcpu", false);

    /** The name in the report's {@code timing} block. */
    public final String key;
    /** Whether it has lookahead (a due time the engine must meet exactly). */
    public final boolean hostSide;

    InputKind(String key, boolean hostSide) {
        this.key = key;
        this.hostSide = hostSide;
    }
}
