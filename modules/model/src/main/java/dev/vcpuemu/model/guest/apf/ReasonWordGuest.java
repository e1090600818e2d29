package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.Platform;

/**
 * The legacy guest, Linux 2.6.38 to 5.7 (GL, reference §2.1): both events over #PF with the
 * reason word; APF on whenever CPUID bit 4 is; send-always when the kernel is preemptible, and
 * the halt path where it cannot schedule (§2.3, §4(vi)). Its two generations differ only in
 * their #PF handler.
 */
abstract class ReasonWordGuest implements ApfEra {
    @Override
    public final boolean enables(Platform platform) {
        return true;
    }

    @Override
    public final boolean pageReadyAsPageFault() {
        return true;
    }

    @Override
    public final long enableBits(boolean preempt) {
        return preempt ? Msr.EN_SEND_ALWAYS : 0;
    }

    @Override
    public final boolean deliversToL1() {
        return true;
    }

    @Override
    public final boolean waitSchedules() {
        return false;
    }
}
