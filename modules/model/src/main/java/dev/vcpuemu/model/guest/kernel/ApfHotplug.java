package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.cpu.X86Cpu;
import dev.vcpuemu.model.guest.program.ApfDisable;
import dev.vcpuemu.model.guest.program.Boot;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * guest.apf-disable: when this CPU turns APF off ({@code kvm_guest_cpu_offline}) and on again,
 * as the hotplug thread would. When a step falls due the thread is woken by a reschedule IPI,
 * which also ends an idle HLT; the idle task, at its schedule point, then runs the step (see
 * {@link ApfDisable} for why there).
 */
final class ApfHotplug {
    private final X86Cpu cpu;
    private final Recorder rec;
    /** Virtual time of the next disable, -1 for none. */
    private long disableAt;
    /** Virtual time of the next re-enable, -1 for none. */
    private long reenableAt = -1;
    /** The reschedule IPI that wakes the idle task for the due step was sent. */
    private boolean kicked;

    ApfHotplug(X86Cpu cpu, Recorder rec, long disableAt) {
        this.cpu = cpu;
        this.rec = rec;
        this.disableAt = disableAt;
    }

    /** When the next step (disable or re-enable) is due, -1 for never. */
    private long due() {
        return disableAt >= 0 ? disableAt : reenableAt;
    }

    /** At each boundary: wake the hotplug thread once its step is due. */
    void kickIfDue(long now) {
        long t = due();
        if (t >= 0 && now >= t && !kicked) {
            kicked = true;
            cpu.raiseIrq(Vector.RESCHEDULE);
        }
    }

    /** The step still to come and not yet kicked, or {@link Long#MAX_VALUE}. */
    long next() {
        long t = due();
        return t >= 0 && !kicked ? t : Long.MAX_VALUE;
    }

    /** The step due at {@code now}, as the routine for the idle task to call, or null. */
    Frame take(long now) {
        if (disableAt >= 0 && now >= disableAt) {
            disableAt = -1;
            kicked = false;
            return new ApfDisable();
        }
        if (reenableAt >= 0 && now >= reenableAt) {
            reenableAt = -1;
            kicked = false;
            rec.event(TraceEvent.GUEST_ENABLES_APF_AGAIN, 0);
            return new Boot();
        }
        return null;
    }

    void reenableAt(long at) {
        reenableAt = at;
    }
}
