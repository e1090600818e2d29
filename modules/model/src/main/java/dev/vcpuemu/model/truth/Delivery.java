package dev.vcpuemu.model.truth;

/**
 * Ground truth about one event the host injected (or one genuine fault the CPU raised): what
 * it really was, so that invariants can compare what a guest handler did with what it was
 * meant to serve (DESIGN §1.6). The guest model never reads these fields to decide anything.
 */
public final class Delivery {
    public enum Kind { GENUINE, NOT_PRESENT, PAGE_READY, WAKE_ALL }

    public final Kind kind;
    public final int token;
    public final long address;
    public final long atNanos;
    /** Set when a handler other than this delivery's consumed the word written for it. */
    public boolean stolen;

    public Delivery(Kind kind, int token, long address, long atNanos) {
        this.kind = kind;
        this.token = token;
        this.address = address;
        this.atNanos = atNanos;
    }

    public boolean isAsync() {
        return kind != Kind.GENUINE;
    }

    public boolean isPageReady() {
        return kind == Kind.PAGE_READY || kind == Kind.WAKE_ALL;
    }

    @Override
    public String toString() {
        return kind == Kind.GENUINE
                ? "genuine #PF at 0x" + Long.toHexString(address)
                : kind + " token 0x" + Integer.toHexString(token);
    }
}
