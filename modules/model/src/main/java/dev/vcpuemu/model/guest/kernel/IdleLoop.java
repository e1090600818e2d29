package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.Routine;

/**
 * IDLE: the idle task's loop, {@code CLI; if (need_resched) schedule(); STI; HLT} forever. It
 * also stands in for two threads Linux would wake here: the start of the workload once the CPU
 * has booted, and the hotplug thread of guest.apf-disable.
 */
public final class IdleLoop extends Frame {
    public static final int CLI = 0;
    public static final int CHECK = 1;
    public static final int STI = 2;
    public static final int HLT = 3;
    public static final int SCHEDULE = 4;

    private final GuestKernel kernel;

    IdleLoop(GuestKernel kernel) {
        super(Routine.IDLE);
        this.kernel = kernel;
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case CLI -> {
                k.cpu().interruptFlag(false);
                pc = CHECK;
            }
            case CHECK -> {
                kernel.startTasksOnceBooted();
                Frame toggle = kernel.dueApfToggle();
                if (toggle != null) {
                    k.push(toggle);
                    return;
                }
                pc = k.runQueueEmpty() ? STI : SCHEDULE;
            }
            case STI -> {
                k.cpu().sti();
                pc = HLT;
            }
            case HLT -> {
                k.halt();
                kernel.idleHalted();
                pc = CLI;
            }
            default -> {
                pc = CLI;
                k.schedule();
            }
        }
    }
}
