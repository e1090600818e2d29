package dev.vcpuemu.model.finding;

import java.util.List;

/**
 * One broken invariant: its kind, where and when, and the last events of that vCPU.
 *
 * @param vcpu the vCPU id within its guest
 * @param guest the guest (VM) of that vCPU, 0 on a host with one guest
 */
public record Finding(FindingKind kind, int vcpu, long atNanos, String detail, List<String> events, int guest) {
    /** A finding in the first (or only) guest: the model knows nothing of other guests. */
    public Finding(FindingKind kind, int vcpu, long atNanos, String detail, List<String> events) {
        this(kind, vcpu, atNanos, detail, events, 0);
    }

    /** The same finding, placed in guest {@code g}. */
    public Finding inGuest(int g) {
        return g == guest ? this : new Finding(kind, vcpu, atNanos, detail, events, g);
    }
}
