package dev.vcpuemu.model.stats;

/**
 * Where a vCPU's virtual time went: every nanosecond of it is in exactly one of these, so they
 * add up to the vCPU's simulated time. Observation only; nothing the model decides reads them.
 */
public enum VcpuTime {
    /** Guest task code, the idle loop included: user mode, system calls, boot. */
    RUNNING("runningNanos"),
    /** Exception and interrupt handlers (#PF, NMI, IRQs) and what they call (wait, wake), deliveries included. */
    HANDLER("handlerNanos"),
    /** The guest executed HLT and waits for an interrupt (the idle task, or a halt-mode async-PF wait). */
    HALTED("haltedNanos"),
    /** The host serves a fault synchronously: the vCPU does not run (reference §2.0). */
    STALLED("stalledNanos"),
    /** The host halted the vCPU itself until a page is in (reference §2.0, synthetic halt). */
    SYNTHETIC_HALT("syntheticHaltNanos");

    /** The name in the JSON report. */
    public final String key;

    VcpuTime(String key) {
        this.key = key;
    }
}
