package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Platform;

/**
 * The proposed design that never merged: not-present tagged in the #PF error code (reference
 * §3, Sean, May 2020), page-ready as in 5.9. It defines no delivery to L1.
 */
final class ErrorCodeGuest implements ApfEra {
    @Override
    public boolean enables(Platform platform) {
        return platform.cpuid(KvmFeature.NOT_PRESENT_IN_ERROR_CODE);
    }

    @Override
    public boolean pageReadyAsPageFault() {
        return false;
    }

    @Override
    public long enableBits(boolean preempt) {
        return Msr.EN_DELIVERY_AS_INT | Msr.EN_NOT_PRESENT_IN_ERROR_CODE;
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
