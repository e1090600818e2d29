package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;

/**
 * The plan of the 2020 series (reference §3): not-present as a #VE-style exception whose
 * information the CPU stores in an area per nesting level, so a nested event uses another.
 */
final class VeGuest extends DesignGuest {
    VeGuest() {
        super(KvmFeature.ASYNC_PF_VE, Msr.EN_DELIVERY_AS_VE);
    }
}
