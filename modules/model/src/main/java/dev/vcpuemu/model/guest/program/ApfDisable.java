package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * APF_DISABLE: {@code kvm_guest_cpu_offline} (reference §4(v) "CPU offline"):
 * {@code kvm_pv_disable_apf()} (nothing if APF is not on; else WRMSR EN=0, which makes the
 * host flush its queue, §2.5, then {@code enabled := 0}), then {@code apf_task_wake_all()},
 * which wakes every sleeper of this CPU because the host will send nothing more for them.
 * With {@code guest.apf-disable.wake-all = off} that step is left out and they sleep forever.
 *
 * <p>Where it runs: Linux runs it from the hotplug thread with IRQs off. The model runs it
 * from the idle task at its schedule point (CLI, run-queue check), which the thread's
 * wake-up IPI reaches at once when the CPU idles. So the disable never cuts into a running
 * task: it happens at the first idle pass at or after {@code at}, when every task of the
 * vCPU is asleep or gone, which is exactly when the lost wakeup can bite. The re-enable is
 * {@link Boot} again, run from the same place.
 */
public final class ApfDisable extends Frame {
    public static final int WRMSR = 0;
    public static final int CLEAR_ENABLED = 1;
    public static final int WAKE_ALL = 2;
    public static final int RETURN = 3;

    public ApfDisable() {
        super(Routine.APF_DISABLE);
    }

    @Override
    public void step(Kernel k) {
        var d = k.settings().guest().apfDisable();
        switch (pc) {
            case WRMSR -> {
                if (k.apfEnabled()) {
                    if (wrmsr(k, Msr.ASYNC_PF_EN, 0)) {
                        k.rec().event(TraceEvent.GUEST_DISABLES_APF, 0);
                        pc = CLEAR_ENABLED;
                    }
                } else {
                    pc = WAKE_ALL;
                }
            }
            case CLEAR_ENABLED -> {
                k.apfEnabled(false);
                pc = WAKE_ALL;
            }
            case WAKE_ALL -> {
                if (d.reenableAfterNanos() >= 0) {
                    k.reenableApfAfter(d.reenableAfterNanos());
                }
                pc = RETURN;
                if (d.wakeAll()) {
                    AsyncPfWake.call(k, Apf.WAKE_ALL_TOKEN);
                }
            }
            default -> k.pop();
        }
    }
}
