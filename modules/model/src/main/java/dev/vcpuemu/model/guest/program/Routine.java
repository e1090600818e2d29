package dev.vcpuemu.model.guest.program;

/**
 * The guest programs a frame can run, one class each (a {@link Frame} subclass), one
 * micro-operation per step, so a race window is an exact count of steps. Trap routines are
 * entered by delivery and left by IRET; the others are called and return. The flags are read
 * on every micro-op (time accounting), so they are fields, not computed.
 *
 * <p>The order is part of every recorded trace hash (an IRET records its routine's ordinal):
 * add new routines at the end.
 */
public enum Routine {
    /** A task's user-mode loop: accesses over its working set, computation, system calls. */
    USER(true, false, false),
    /**
     * An L2 vCPU thread of a guest that is KVM itself (L1), in guest mode: L2 code over the VM's
     * memory (§2.4). A trap over it is a VM exit into KVM's run loop, which L1 sees as from user
     * mode (it reschedules there); the host sees L2's own CPL.
     */
    L2_GUEST(true, false, false),
    /** A system call: preemptible, preemption-disabled or IRQ-disabled kernel accesses. */
    SYSCALL(false, false, false),
    /** CPU bring-up: the APF MSR writes of §2.1/§2.2 "Enable (guest)". */
    BOOT(false, false, false),
    /** {@code kvm_guest_cpu_offline}: WRMSR EN=0, then (unless switched off) wake this CPU's sleepers (§4(v)). */
    APF_DISABLE(false, false, false),
    /** The idle loop: CLI, check the run queue, STI;HLT. */
    IDLE(false, false, false),
    /** Legacy ≤5.2 (GL-a) {@code do_async_page_fault}: instrumented entry, reason read before CR2 (§4(i) "Second window"). */
    PF_LEGACY_EARLY(false, true, true),
    /** Legacy (5.3–5.7) {@code async_page_fault}: CR2 in entry, reason word, dispatch (§2.1). */
    PF_LEGACY(false, true, true),
    /** 5.8 and ≥5.9 {@code exc_page_fault}: CR2, flags, panics, wait_schedule (§2.2). */
    PF_INTERRUPT(false, true, true),
    /** The error-code design's #PF handler: CR2 first, then the error code on its own exception frame (§3). */
    PF_ERROR_CODE(false, true, true),
    /** The #VE design's handler: reads and clears the information area of its own nesting level (§3). */
    VE(false, true, true),
    /** KVM as L1 handling the #PF VM exit of an async #PF in L2: flags, IRQs on, wait or wake (§2.4 steps 4–6). */
    L1_PF_EXIT(false, true, true),
    /** System management mode: CR0.PG=0 until RSM (§4(v) 1). */
    SMM(false, true, true),
    /** {@code do_page_fault}: a genuine guest fault. */
    GENUINE_FAULT(false, false, true),
    /** {@code kvm_async_pf_task_wait} / {@code _wait_schedule}. */
    WAIT(false, false, true),
    /** {@code kvm_async_pf_task_wake}, including wake-all. */
    WAKE(false, false, true),
    /** {@code sysvec_kvm_asyncpf_interrupt} on vector 0xF3 (§2.2). */
    PAGE_READY_IRQ(false, true, true),
    /** The local timer interrupt: accounting, preemption. */
    TIMER_IRQ(false, true, true),
    /** The reschedule IPI. */
    RESCHED_IRQ(false, true, true),
    /** The NMI handler: nmi_state, CR2 save/restore, perf sampling (§1.7, §4(vii)). */
    NMI(false, true, true),
    /** The #GP handler's exception fixup of an unchecked MSR access: warn and skip the WRMSR. */
    GP_FIXUP(false, true, true);

    public final boolean user;
    public final boolean trap;
    /** Handler code: a trap's routine or one a handler calls; time here counts as handler time. */
    public final boolean handler;

    Routine(boolean user, boolean trap, boolean handler) {
        this.user = user;
        this.trap = trap;
        this.handler = handler;
    }
}
