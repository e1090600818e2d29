package dev.vcpuemu.model.trace;

/**
 * Everything a vCPU or a paging worker records as it happens, as a type: the timeline writer
 * and the deterministic trace hash switch on it exhaustively, so a new event cannot be
 * emitted without its reader knowing it. Each event carries one argument, named by the end of
 * its {@link #text} (a token, a gfn, a vector, a task, a routine).
 *
 * <p>{@link #text} is what a vCPU's last events show and what the trace hash mixes in: the
 * wording is part of every recorded trace hash, so it is kept exactly as it was when events
 * were strings. Findings are recorded beside these events under their {@code FindingKind}'s
 * name ({@link EventSink#finding}).
 */
public enum TraceEvent {
    // The CPU delivering events and returning from them (DESIGN §1.2, reference §1.8).
    /** A genuine guest #PF delivered; the argument is CR2. */
    DELIVER_PAGE_FAULT("deliver #PF cr2"),
    /** A host-injected (async) #PF delivered; the argument is CR2, the token. */
    DELIVER_ASYNC_PAGE_FAULT("deliver #PF (async) cr2"),
    /** The #VE design's exception delivered; the argument is the token. */
    DELIVER_VE("deliver #VE token"),
    /** An NMI delivered; the argument is vector 2. */
    DELIVER_NMI("deliver NMI"),
    /** A maskable interrupt delivered; the argument is its vector. */
    DELIVER_IRQ("deliver IRQ vector"),
    /** A #GP delivered (a refused WRMSR); the argument is the MSR. */
    DELIVER_GP("deliver #GP msr"),
    /** The #GP handler's fixup of a WRMSR the host refused; the argument is the MSR. */
    UNCHECKED_MSR_ACCESS("unchecked MSR access error: WRMSR to"),
    /** A system management interrupt delivered; SMM entry follows. */
    DELIVER_SMI("deliver SMI"),
    /** An async #PF in guest mode delivered to L1 as a #PF VM exit (§2.4); the argument is the exit qualification. */
    PF_VM_EXIT("#PF VM exit to L1, exit qualification"),
    /** IRET (or RSM) from a trap routine; the argument is the routine's ordinal. */
    IRET("iret from"),
    /** KVM as L1 resumes L2 after handling a #PF VM exit. */
    VM_ENTRY_TO_L2("VM entry to L2"),
    /** HLT executed; the argument is the task (-1: idle). */
    HLT("hlt"),
    /** The scheduler switched tasks; the argument is the new task (-1: idle). */
    SWITCH_TO_TASK("switch to task"),
    /** A software-disabled LAPIC dropped a fixed interrupt (§4(v) 2); the argument is the vector. */
    LAPIC_DROPS_VECTOR("LAPIC disabled drops vector"),
    /** SMM entry cleared CR0.PG (§4(v) 1). */
    SMM_ENTRY("SMM entry: CR0.PG=0"),
    /** RSM set CR0.PG again. */
    RSM("RSM: CR0.PG=1"),

    // The guest kernel.
    /** A user task died of SIGSEGV; the argument is the faulting address. */
    SIGSEGV("SIGSEGV at"),
    /** An instrumented point of the #PF entry took a genuine #PF (§4(i) second window, hazard xiv); the argument is its address. */
    ENTRY_INSTRUMENTATION_FAULT("#PF entry instrumentation faults at"),
    /** The guest read and cleared the reason/flags word; the argument is the value read. */
    READ_CLEAR_APF_WORD("read-and-clear APF word ="),
    /** The page-ready interrupt handler read the token slot; the argument is the token. */
    READ_TOKEN_SLOT("read token slot"),
    /** A wait found the dummy a wake left before it (wake-before-wait, §4(iii)); the argument is the token. */
    WAIT_FOUND_DUMMY("wait found dummy token"),
    /** A task went to sleep in the scheduler on a token. */
    WAIT_SLEEP("wait (sleep) token"),
    /** The vCPU waits on a token with STI;HLT (the legacy halt path, §4(vi)). */
    WAIT_HALT("wait (halt) token"),
    /** A wait ended: its node was unhashed. */
    WAIT_DONE("wait done token"),
    /** A wake unhashed a waiter's node; the argument is the token. */
    WAKE("wake token"),
    /** A wake found no waiter and left a dummy (§4(iii)); the argument is the token. */
    WAKE_LEFT_DUMMY("wake left dummy token"),
    /** The guest wrote EN = 0 (CPU offline, §4(v)). */
    GUEST_DISABLES_APF("guest disables APF"),
    /** The guest runs its APF enable again after a disable. */
    GUEST_ENABLES_APF_AGAIN("guest enables APF again"),
    /** The guest software-enabled its LAPIC (§4(v) 2). */
    GUEST_ENABLES_LAPIC("guest enables its LAPIC"),
    /** The VMM migrated the VM (§4(v) "migration"). */
    VM_MIGRATED("VM migrated"),

    // KVM's host half of the vCPU (DESIGN §1.3, reference §2.0–§2.2).
    /** An async not-present was started for a gfn (§2.0 step 5). */
    HOST_ASYNC("host async gfn"),
    /** A synchronous fault: the vCPU is blocked until the gfn is in (§2.0 step 3). */
    HOST_SYNC_FAULT("host sync fault gfn"),
    /** The synchronous fault ended; the argument is the gfn. */
    HOST_SYNC_FAULT_ENDS("host sync fault ends gfn"),
    /** A synthetic halt for a gfn (§2.0 steps 4 and 7). */
    HOST_SYNTHETIC_HALT("host synthetic halt gfn"),
    /** The synthetic halt ended. */
    HOST_SYNTHETIC_HALT_ENDS("host synthetic halt ends"),
    /** A not-present #PF queued for injection; the argument is the token. */
    HOST_INJECT_NOT_PRESENT("host inject not-present token"),
    /** A not-present raised in guest mode, to become a #PF VM exit to L1 (§2.4). */
    HOST_INJECT_NOT_PRESENT_VM_EXIT("host inject not-present as #PF VM exit, token"),
    /** The error-code design's not-present, tagged on the exception frame. */
    HOST_INJECT_NOT_PRESENT_ERROR_CODE("host inject not-present (error code) token"),
    /** The #VE design's not-present. */
    HOST_INJECT_NOT_PRESENT_VE("host inject #VE not-present token"),
    /** A page-ready injected (#PF with reason 2, or the token slot and interrupt); the argument is the token. */
    HOST_INJECT_PAGE_READY("host inject page-ready token"),
    /** A legacy page-ready raised in guest mode, to become a #PF VM exit to L1 (§2.4). */
    HOST_INJECT_PAGE_READY_VM_EXIT("host inject page-ready as #PF VM exit, token"),
    /** A pending #PF was dropped before delivery (the #DF guard); the argument is its token. */
    PENDING_PF_CANCELLED("pending #PF cancelled"),
    /** The 4.15 #DF guard cancelled a pending not-present instead of sending a page-ready (§2.1 step 5). */
    HOST_DF_GUARD_CANCELS("host #DF guard cancels not-present token"),
    /** Before 5.13 a page-ready interrupt raised at a disabled LAPIC is lost, the slot stays full (§4(v) 2). */
    LAPIC_DROPS_PAGE_READY("LAPIC disabled drops page-ready IRQ token"),
    /** A CR0.PG change flushed the APF queue (before 2025, §4(v) 1); the argument is the new CR0.PG. */
    HOST_PAGING_CHANGE_FLUSHES("host CR0.PG change flushes the APF queue"),
    /** host.bugs.page-ready-to-other-vcpu: this host hands a page-ready to another vCPU. */
    HOST_HANDS_PAGE_READY_OVER("host hands page-ready to another vCPU token"),
    /** host.bugs.page-ready-to-other-vcpu: this host takes a page-ready of another vCPU's token. */
    HOST_TAKES_FOREIGN_PAGE_READY("host takes page-ready of another vCPU token"),
    /** The destination host restores EN after a migration; the argument is the value. */
    HOST_MIGRATED("host migrated, restores EN"),

    // A host paging worker (reference §1.6).
    /** A swap-in started; at the not-present's time, the argument is the token. */
    SWAP_IN_START("swap-in start token"),
    /** A swap-in completed; at its due time, the argument is the token. */
    SWAP_IN_DONE("swap-in done token");

    /** The event as a vCPU's last events show it, and as the trace hash mixes it in. */
    public final String text;

    TraceEvent(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }
}
