package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * GP_FIXUP: the #GP that a refused WRMSR raises (reference §1.3, behaviour 30), as Linux handles
 * it for {@code wrmsrl}: the exception table's fixup ({@code ex_handler_wrmsr_unsafe}) prints
 * "unchecked MSR access error" and resumes after the WRMSR, which has changed nothing. The
 * guest goes on as if the write had happened (it sets its own APF flag anyway).
 */
public final class GeneralProtection extends Frame {
    public static final int FIXUP = 0;
    public static final int IRET = 1;

    public GeneralProtection() {
        super(Routine.GP_FIXUP);
    }

    @Override
    public void step(Kernel k) {
        if (pc == FIXUP) {
            k.counters().inc(Counter.MSR_WRITES_REFUSED);
            k.rec().event(TraceEvent.UNCHECKED_MSR_ACCESS, delivery.address);
            interrupted.fixedUp = true;
            pc = IRET;
        } else {
            k.iret();
        }
    }
}
