package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Platform;

/**
 * The proposed design that never merged: not-present as a #VE-style exception with an
 * information area per nesting level (reference §3, the 2020 series' plan), page-ready as in
 * 5.9. Genuine faults still come as #PF, told apart by the error code; it defines no delivery
 * to L1.
 */
final class VeGuest implements ApfEra {
    @Override
    public boolean enables(Platform platform) {
        return platform.cpuid(KvmFeature.ASYNC_PF_VE);
    }

    @Override
    public boolean pageReadyAsPageFault() {
        return false;
    }

    @Override
    public long enableBits(boolean preempt) {
        return Msr.EN_DELIVERY_AS_INT | Msr.EN_DELIVERY_AS_VE;
    }

    @Override
    public boolean deliversToL1() {
        return false;
    }

    @Override
    public boolean waitSchedules() {
        return true;
    }

    @Override
    public Frame pageFaultHandler() {
        return new ErrorCodePageFault();
    }
}
