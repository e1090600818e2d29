package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Platform;

/**
 * A proposed design that never merged (reference §3): not-present through a channel of its own
 * that nothing else shares, enabled by its own CPUID and EN bit (reserved in real KVM);
 * page-ready as in 5.9; the 5.9 rules for IF=0 and kernel mode. Genuine faults come as #PF
 * and are told apart by the error code. The proposals define no delivery to L1.
 */
abstract class DesignGuest implements ApfEra {
    private final KvmFeature feature;
    private final long enableBit;

    DesignGuest(KvmFeature feature, long enableBit) {
        this.feature = feature;
        this.enableBit = enableBit;
    }

    @Override
    public final boolean enables(Platform platform) {
        return platform.cpuid(feature);
    }

    @Override
    public final boolean pageReadyAsPageFault() {
        return false;
    }

    @Override
    public final long enableBits(boolean preempt) {
        return Msr.EN_DELIVERY_AS_INT | enableBit;
    }

    @Override
    public final boolean deliversToL1() {
        return false;
    }

    @Override
    public final boolean waitSchedules() {
        return true;
    }

    @Override
    public final Frame pageFaultHandler() {
        return new ErrorCodePageFault();
    }
}
