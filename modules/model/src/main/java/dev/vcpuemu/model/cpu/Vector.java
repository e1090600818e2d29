package dev.vcpuemu.model.cpu;

/** Interrupt and exception vectors: the architecture's, and the ones the Linux guest uses (reference §1.2). */
public final class Vector {
    /** #DF, double fault. */
    public static final int DF = 8;
    /** #GP, general protection: a WRMSR the host refuses (reference §1.3 reserved bits). */
    public static final int GP = 13;
    /** #PF, page fault: genuine, and every async #PF. */
    public static final int PF = 14;
    /** #VE, virtualization exception: the #VE design's not-present. */
    public static final int VE = 20;
    /** Linux's local timer interrupt. */
    public static final int TIMER = 0xEC;
    /** {@code HYPERVISOR_CALLBACK_VECTOR}: the page-ready interrupt (§2.2). */
    public static final int ASYNC_PF = 0xF3;
    /** Linux's reschedule IPI. */
    public static final int RESCHEDULE = 0xFD;

    private Vector() {
    }
}
