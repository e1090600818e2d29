package dev.vcpuemu.model.finding;

/**
 * The named kinds of broken invariant (DESIGN §1.6). Each is detected against ground truth
 * that the guest cannot see; the reference section that describes the hazard is named.
 */
public enum FindingKind {
    /** A #PF handler consumed a non-zero reason/flags word written for another delivery (§4(i)). */
    APF_WORD_STOLEN,
    /** The handler of an async #PF found the word 0 and handled a genuine fault at the token (§4(i)). */
    SPURIOUS_FAULT_AT_TOKEN,
    /** A task waits on a token whose page-ready was already consumed elsewhere (§4(i), §4(iii)-B). */
    LOST_WAKEUP,
    /** A task stayed in uninterruptible sleep longer than the hung-task timeout. */
    HUNG_TASK,
    /** A vCPU sat in the APF halt loop longer than the wedge timeout (§4(i) GL, §4(vii)). */
    VCPU_WEDGED,
    /** A dummy sleeper entry that nothing will ever consume, or one unlinked by wake-all (§4(iii), §4(viii)). */
    DUMMY_LEAK,
    /** An exception raised while another was pending delivery (§4(iv)). */
    DOUBLE_FAULT,
    /** An exception raised while a double fault was pending: the guest is dead. */
    TRIPLE_FAULT,
    /** The guest kernel panicked (the detail carries the panic text, §2.2, §4(ii)). */
    GUEST_PANIC,
    /**
     * An NMI delivered while the NMI handler still ran: an IRET inside the handler (a #PF's, an
     * IRQ's in GL's halt loop) re-opened NMIs early (§4(vii)). Linux latches it and runs the
     * handler once more; on x86-64 the IST stack would otherwise be overwritten.
     */
    NESTED_NMI,
    /**
     * A CPU spins on a sleeper-bucket lock that it holds itself, lower on its own stack: a wake
     * or wait nested inside the code holding the lock, which a host injecting with IF=0 makes
     * possible (§4(ii) counterfactual 2). The spin never ends.
     */
    SELF_DEADLOCK,
    /**
     * The host wrote a page-ready token into the slot while it still held one the guest had not
     * consumed: that page-ready is lost (§4(iv), a host without the slot check).
     */
    PAGE_READY_OVERWRITTEN,
    /**
     * The page-ready interrupt was raised while the previous one was still pending in IRR: the
     * two coalesce into one delivery (§4(iv)).
     */
    IRR_COALESCED_LOSS,
    /**
     * An async #PF handler read CR2 after a nested #PF had overwritten it, and acted on the wrong
     * token (§4(i) "Second window", ≤5.2 guests, behaviour 21).
     */
    CR2_CLOBBERED,
    /**
     * The guest's async #PF wait scheduled away from a context that must not sleep (IRQs or
     * preemption off, IRQ or NMI context): "BUG: scheduling while atomic" (§4(ii), §4(vi)).
     */
    SLEEP_IN_ATOMIC
}
