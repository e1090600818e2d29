package dev.vcpuemu.model.host;

import dev.vcpuemu.model.truth.Delivery;

/**
 * The vCPU as KVM's host half sees it (reference §1.5 last bullet): the state the APF logic
 * consults, the events it injects, and the messages it sends to the rest of the machine. The
 * host reads and injects only through this port; what it reports for observation goes through
 * {@link HostObserver}.
 */
public interface VcpuPort {
    /** Virtual time. */
    long now();

    /** {@code interrupt_allowed()}: IF=1 and no STI/MOV-SS shadow. */
    boolean interruptAllowed();

    boolean exceptionPending();

    /**
     * {@code kvm_event_needs_reinjection}: the fault was taken while the CPU delivered an event
     * (its frame's page is not resident), which must be injected again once the fault is handled.
     */
    boolean eventNeedsReinjection();

    /**
     * An exception KVM itself injected is pending (an async #PF). A genuine guest #PF is raised
     * and delivered by the CPU without an exit in between, so no host code ever sees it pending;
     * eras that do not check exceptions must not trip over it either.
     */
    default boolean injectedExceptionPending() {
        return exceptionPending();
    }

    /** {@code get_cpl}: in guest mode, L2's CPL. */
    int cpl();

    /** {@code is_guest_mode}: the vCPU runs L2 for a guest that is itself KVM (§2.4). */
    default boolean guestMode() {
        return false;
    }

    /** CR0.PG: paging on (off in SMM and real mode). */
    default boolean pagingEnabled() {
        return true;
    }

    /** The LAPIC is software-enabled (SPIV); a disabled one drops fixed interrupts. */
    default boolean lapicEnabled() {
        return true;
    }

    /**
     * An async #PF with {@code CR2 = cr2} (a token). In guest mode {@code kvm_inject_page_fault}
     * makes it a #PF VM exit to L1 with the token as exit qualification, whether or not L1
     * intercepts #PF, and L1's CR2 stays as it is (§2.4 step 3).
     */
    void injectPageFault(long cr2, Delivery delivery);

    /** The error-code design: a not-present #PF tagged in the error code on its exception frame. */
    default void injectTaggedPageFault(long cr2, long errorCode, Delivery delivery) {
        throw new UnsupportedOperationException("this CPU has no tagged #PF delivery");
    }

    /**
     * The #VE design: a virtualization exception whose information (reason, token) the CPU
     * stores in the area of the nesting level it is delivered at.
     */
    default void injectVirtualizationException(int reason, int token, Delivery delivery) {
        throw new UnsupportedOperationException("this CPU has no #VE delivery");
    }

    /** The #DF guard of 4.15 (§2.1 step 5): the pending #PF is dropped, never delivered. */
    default void cancelPendingException() {}

    void raiseIrq(int vector);

    /** Hands a work item to a paging worker ({@code schedule_work}). */
    void startWork(WorkItem item);

    /**
     * host.bugs.page-ready-to-other-vcpu: hand the page-ready of {@code item} (already dequeued
     * here) to another vCPU, which delivers it (§4(iii) A). False if there is none.
     */
    default boolean pageReadyElsewhere(WorkItem item) {
        return false;
    }
}
