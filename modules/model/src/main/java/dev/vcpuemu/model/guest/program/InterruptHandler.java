package dev.vcpuemu.model.guest.program;

/**
 * A maskable interrupt's handler: its own steps, then {@code irq_exit} with preemption on the
 * way back to a preemptible context, then IRET at {@link #IRET}.
 */
abstract class InterruptHandler extends Frame {
    /** The last step of every interrupt routine: irq_exit (and preemption) is done, IRET next. */
    public static final int IRET = 100;

    InterruptHandler(Routine routine) {
        super(routine);
    }

    /** {@code irq_exit}, then preemption on the way back to a preemptible context; at the next step, IRET. */
    final void irqExit(Kernel k) {
        if (pc != IRET) {
            k.irqNesting(-1);
            pc = IRET;
            boolean preemptible = !k.idleTask() && k.nmi().nesting() == 0 && k.irqNesting() == 0 && (savedCpl == 3
                    || (k.settings().guest().preempt() && savedIf && k.preemptCount() == 0));
            if (k.needResched() && preemptible && !k.runQueueEmpty()) {
                k.needResched(false);
                k.preemptCurrent();
            }
            return;
        }
        k.iret();
    }
}
