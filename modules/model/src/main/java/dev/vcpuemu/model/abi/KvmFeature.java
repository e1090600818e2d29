package dev.vcpuemu.model.abi;

/**
 * The CPUID leaf {@code 0x40000001} feature bits a guest looks at before it enables async PF
 * (reference §1.3). The last two are the proposed designs' hypothetical bits.
 */
public enum KvmFeature {
    /** Bit 10, {@code KVM_FEATURE_ASYNC_PF_VMEXIT}: EN bit 2 may be set (from about 4.14). */
    ASYNC_PF_VMEXIT,
    /** Bit 14, {@code KVM_FEATURE_ASYNC_PF_INT}: page-ready as an interrupt (host 5.8). */
    ASYNC_PF_INT,
    /** The error-code design's bit. */
    NOT_PRESENT_IN_ERROR_CODE,
    /** The #VE design's bit. */
    ASYNC_PF_VE
}
