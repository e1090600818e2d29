package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.guest.program.Platform;

/**
 * Linux 5.9 and later (GI, reference §2.2): the flags word for not-present, page-ready as an
 * interrupt on {@code HYPERVISOR_CALLBACK_VECTOR} with the token slot and the ACK; enabled only
 * when the host offers CPUID bit 14 (§2.6).
 */
final class InterruptGuest extends FlagsGuest {
    @Override
    public boolean enables(Platform platform) {
        return platform.cpuid(KvmFeature.ASYNC_PF_INT);
    }

    @Override
    public boolean pageReadyAsPageFault() {
        return false;
    }

    @Override
    public long enableBits(boolean preempt) {
        return Msr.EN_DELIVERY_AS_INT;
    }
}
