package dev.vcpuemu.model.abi;

/** Values the protocol reserves (reference §1.2, §1.4, §3). */
public final class Apf {
    /** {@code KVM_PV_REASON_PAGE_NOT_PRESENT}: the reason word (≤5.7) or bit 0 of the flags word (≥5.8). */
    public static final int REASON_PAGE_NOT_PRESENT = 1;
    /** {@code KVM_PV_REASON_PAGE_READY}: the legacy page-ready reason. */
    public static final int REASON_PAGE_READY = 2;
    /** The wake-all token, {@code ~0}: wake every sleeper of this CPU. */
    public static final int WAKE_ALL_TOKEN = 0xFFFFFFFF;
    /**
     * The error code of an async not-present in the error-code design: bits 31:16 set, which no
     * real #PF has (Sean's May 2020 suggestion, §3).
     */
    public static final long ERROR_CODE_ASYNC_NOT_PRESENT = 0xFFFF_0000L;

    private Apf() {
    }
}
