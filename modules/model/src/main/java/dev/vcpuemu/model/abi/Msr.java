package dev.vcpuemu.model.abi;

/**
 * The paravirtual async-PF MSRs and the bits of {@code MSR_KVM_ASYNC_PF_EN} (reference §1.3),
 * as host and guest both use them. Bits 4 and 5 are reserved in real KVM; the two proposed
 * designs that never merged use them as their enable bits.
 */
public final class Msr {
    public static final long ASYNC_PF_EN = 0x4b564d02L;
    public static final long ASYNC_PF_INT = 0x4b564d06L;
    public static final long ASYNC_PF_ACK = 0x4b564d07L;

    /** Bit 0, {@code KVM_ASYNC_PF_ENABLED}. */
    public static final long EN_ENABLED = 1L;
    /** Bit 1, {@code KVM_ASYNC_PF_SEND_ALWAYS}: not-present may come at CPL 0 too (§2.3). */
    public static final long EN_SEND_ALWAYS = 1L << 1;
    /** Bit 2: while L2 runs, deliver async #PFs to L1 as #PF VM exits (§1.3, §2.4). */
    public static final long EN_DELIVERY_AS_PF_VMEXIT = 1L << 2;
    /** Bit 3, {@code KVM_ASYNC_PF_DELIVERY_AS_INT}: page-ready as an interrupt (§2.2). */
    public static final long EN_DELIVERY_AS_INT = 1L << 3;
    /** Proposed design: not-present tagged in the #PF error code (a reserved bit in real KVM). */
    public static final long EN_NOT_PRESENT_IN_ERROR_CODE = 1L << 4;
    /** Proposed design: not-present as a #VE-style exception (a reserved bit in real KVM). */
    public static final long EN_DELIVERY_AS_VE = 1L << 5;

    private Msr() {
    }
}
