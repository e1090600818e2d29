package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;

/**
 * The design of Sean's May 2020 suggestion (reference §3): not-present tagged in the #PF error
 * code, which the CPU pushes on each delivery's own exception frame, so a nested fault cannot
 * take it.
 */
final class ErrorCodeGuest extends DesignGuest {
    ErrorCodeGuest() {
        super(KvmFeature.NOT_PRESENT_IN_ERROR_CODE, Msr.EN_NOT_PRESENT_IN_ERROR_CODE);
    }
}
