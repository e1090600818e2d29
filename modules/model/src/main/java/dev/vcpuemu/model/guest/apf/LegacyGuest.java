package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.Frame;

/**
 * Linux 5.3 to 5.7 (GL-b, reference §2.1): CR2 is captured in the entry code before anything
 * can fault (the v5.3 fix of §4(i)).
 */
final class LegacyGuest extends ReasonWordGuest {
    @Override
    public Frame pageFaultHandler() {
        return new LegacyPageFault();
    }
}
