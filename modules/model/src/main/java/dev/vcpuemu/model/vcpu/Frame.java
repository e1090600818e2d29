package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.host.Delivery;

/**
 * One activation of a {@link Routine} on a task's stack. A trap frame also holds what the
 * CPU pushed (the interrupted IF and CPL) and, as ground truth, which delivery it serves.
 * A faulting micro-op leaves {@code pc} where it is, so IRET retries it (a precise fault).
 */
final class Frame {
    final Routine routine;
    int pc;

    // What the CPU saved at delivery (trap frames).
    boolean savedIf;
    int savedCpl;
    Delivery delivery;
    /** The error code the CPU pushed (the error-code design tags async not-present here). */
    long errorCode;
    /** The frame that was running when this trap was delivered. */
    Frame interrupted;

    // Locals.
    long addr;
    boolean addrChosen;
    int token;
    int bucket;
    int count;
    int kind;
    boolean halted;
    boolean scheduleFlavour;
    SleeperNode node;
    long since;
    /** WAIT: ground truth of what became of the token waited on (never read by the guest model). */
    TokenFate fate;
    boolean reported;
    /** A SELF_DEADLOCK was reported for this frame's spin. */
    boolean deadlockReported;
    /** Set by a fault's fixup: the faulting access completes with an error instead of retrying. */
    boolean fixedUp;
    /** #PF entry: the instrumented points already passed (bit per point), each may fault once per attempt. */
    int traced;
    /** WAIT: the context that took the fault could not sleep (IRQs off, preemption off, IRQ or NMI context). */
    boolean atomic;

    Frame(Routine routine) {
        this.routine = routine;
    }

    int cpl() {
        return routine.user ? 3 : 0;
    }
}
