package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.Frame;

/**
 * Linux 2.6.38 to 5.2 (GL-a, reference §2.1): the C handler reads the reason before CR2 and its
 * entry is instrumented (§4(i) second window).
 */
final class LegacyEarlyGuest extends ReasonWordGuest {
    @Override
    public Frame pageFaultHandler() {
        return new LegacyEarlyPageFault();
    }
}
