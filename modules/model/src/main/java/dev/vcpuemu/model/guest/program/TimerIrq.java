package dev.vcpuemu.model.guest.program;

/** TIMER_IRQ: the local timer: a task past its time slice with others runnable is to be preempted. */
public final class TimerIrq extends InterruptHandler {
    public static final int TICK = 0;
    public static final int EXIT = 1;

    public TimerIrq() {
        super(Routine.TIMER_IRQ);
    }

    @Override
    public void step(Kernel k) {
        if (pc == TICK) {
            k.irqNesting(+1);
            if (k.now() - k.sliceStart() >= k.settings().guest().timesliceNanos() && !k.runQueueEmpty()) {
                k.needResched(true);
            }
            pc = EXIT;
        } else {
            irqExit(k);
        }
    }
}
