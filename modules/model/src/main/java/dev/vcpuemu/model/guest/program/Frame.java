package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.truth.Delivery;

/**
 * One activation of a guest routine on a task's kernel stack: a program counter and the
 * routine's own locals (each subclass declares them, and names its steps). A trap frame also
 * holds what the CPU pushed when it delivered the event (the interrupted IF and CPL, the error
 * code) and, as ground truth, which delivery it serves. A faulting micro-op leaves {@code pc}
 * where it is, so IRET retries it (a precise fault).
 */
public abstract class Frame {
    public final Routine routine;
    protected int pc;

    // What the CPU saved at delivery (trap frames), or what a routine called by a handler inherits from it.
    protected boolean savedIf;
    protected int savedCpl;
    /** The error code the CPU pushed (the error-code design tags async not-present here). */
    protected long errorCode;
    /** The frame that was running when this trap was delivered. */
    protected Frame interrupted;
    /** Ground truth: the event this frame's handler serves (never read to decide anything). */
    protected Delivery delivery;

    /** Set by a fault's fixup: the faulting access completes with an error instead of retrying. */
    boolean fixedUp;
    /** The step whose straight-line code {@link #spent} counts ({@link #ran}). */
    private int spentAt = -1;
    private int spent;

    protected Frame(Routine routine) {
        this.routine = routine;
    }

    /** Runs one micro-operation of this routine. */
    public abstract void step(Kernel k);

    /**
     * The current step begins with {@code ops} micro-ops of straight-line code (a calibrated
     * length, guest.code): false while they run, true on the last one and after it, until the
     * step changes, so that a step retried (a lock not taken, a fault) does not run them again.
     * Inputs land between any two of them, so the stretch is as wide a window as the real code;
     * with 1 it is the step alone.
     */
    protected final boolean ran(int ops) {
        if (spentAt != pc) {
            spentAt = pc;
            spent = 0;
        }
        return spent >= ops || ++spent >= ops;
    }

    /** The calibrated lengths of the guest's code paths. */
    protected static Settings.Code code(Kernel k) {
        return k.settings().guest().code();
    }

    /** The program counter: the step that runs next. */
    public final int pc() {
        return pc;
    }

    /** The CPL of this code as the guest kernel sees it. */
    public final int cpl() {
        return routine.user ? 3 : 0;
    }

    /** The CPL KVM reads ({@code get_cpl}): over L2, L2's own. */
    public int cplSeenByHost() {
        return cpl();
    }

    /** Ground truth: what this frame's handler serves, or null. */
    public final Delivery delivery() {
        return delivery;
    }

    /** The CPU delivered an event into this frame's routine, interrupting {@code top}. */
    public final void entered(boolean interruptedIf, Frame top, Delivery d, long errorCode) {
        this.savedIf = interruptedIf;
        // The CPL as the guest kernel sees what it interrupted (over L2: KVM's run loop, L2_GUEST).
        this.savedCpl = top == null ? 0 : top.cpl();
        this.interrupted = top;
        this.delivery = d;
        this.errorCode = errorCode;
    }

    /** What a routine called by a trap handler inherits from the trap: its saved context. */
    protected final void inherit(Frame trap) {
        this.savedIf = trap.savedIf;
        this.savedCpl = trap.savedCpl;
        this.interrupted = trap.interrupted;
    }

    /** The IF of the interrupted context, which IRET restores. */
    public final boolean savedIf() {
        return savedIf;
    }

    /**
     * Whether a genuine #PF on this frame's user access is fixed up instead of oopsing: a user
     * copy from an NMI ({@code copy_from_user_nmi}) or from a preemptible system call.
     */
    protected boolean userAccessWithFixup() {
        return false;
    }

    /**
     * A memory access: guest page tables first (a genuine #PF if not present), then host
     * residency (reference §2.0 if not resident). Returns true if the access retired.
     */
    protected final boolean access(Kernel k, long va, int gfn, boolean userPage) {
        if (fixedUp) {
            fixedUp = false;
            return true;
        }
        if (userPage && !k.pageTables().present(k.layout().userPage(va))) {
            k.counters().inc(Counter.GENUINE_PAGE_FAULTS);
            k.cpu().raisePageFault(va, new Delivery(Delivery.Kind.GENUINE, 0, va, k.now()));
            return false;
        }
        return k.platform().access(gfn);
    }

    /**
     * WRMSR of a paravirtual MSR: true once it retired. A value the host refuses raises #GP
     * (reference §1.3); Linux writes these MSRs with {@code wrmsrl}, whose exception fixup warns
     * and skips the instruction ({@link GeneralProtection}), so the retry after IRET retires
     * without writing.
     */
    protected final boolean wrmsr(Kernel k, long msr, long value) {
        if (fixedUp) {
            fixedUp = false;
            return true;
        }
        if (k.platform().wrmsr(msr, value)) {
            return true;
        }
        k.cpu().raiseGeneralProtection(new Delivery(Delivery.Kind.GENUINE, 0, msr, k.now()));
        return false;
    }

    /** The 5.9 rules for an async not-present, kept by both designs: panic with IF=0 or in kernel mode. */
    protected final boolean asyncNotPresentAllowed(Kernel k) {
        if (!savedIf) {
            k.panic(Panics.IF_OFF);
            return false;
        }
        if (savedCpl != 3) {
            k.panic(Panics.KERNEL_MODE);
            return false;
        }
        return true;
    }
}
