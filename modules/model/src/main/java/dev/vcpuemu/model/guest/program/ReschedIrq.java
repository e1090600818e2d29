package dev.vcpuemu.model.guest.program;

/** RESCHED_IRQ: the reschedule IPI: {@code need_resched}, acted on at the interrupt's exit. */
public final class ReschedIrq extends InterruptHandler {
    public static final int RESCHED = 0;
    public static final int EXIT = 1;

    public ReschedIrq() {
        super(Routine.RESCHED_IRQ);
    }

    @Override
    public void step(Kernel k) {
        if (pc == RESCHED) {
            k.irqNesting(+1);
            k.needResched(true);
            pc = EXIT;
        } else {
            irqExit(k);
        }
    }
}
