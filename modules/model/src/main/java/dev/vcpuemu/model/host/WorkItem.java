package dev.vcpuemu.model.host;

/**
 * {@code struct kvm_async_pf} (reference §1.6): one host paging job, or a wake-all item.
 * {@code generation} ties it to the enable epoch in which it was queued, so that a completion
 * arriving after a disable is dropped as flushed (§2.5).
 */
public record WorkItem(int vcpu, int token, int gfn, boolean wakeAll, boolean notPresentInjected,
                       int generation, long issuedAtNanos) {}
