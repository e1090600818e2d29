package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.Frame;

/**
 * The guests from 5.8 on (reference §2.2, §2.3): the hook in {@code exc_page_fault} reads the
 * flags word with the entry noinstr, user mode only (a kernel-mode or IF=0 async #PF panics),
 * the wait always schedules. Whether page-ready still comes as a #PF (5.8) or as the interrupt
 * (≥5.9) is the one thing its two generations differ in besides their enable bits.
 */
abstract class FlagsGuest implements ApfEra {
    @Override
    public final boolean deliversToL1() {
        return true;
    }

    @Override
    public final boolean waitSchedules() {
        return true;
    }

    @Override
    public final Frame pageFaultHandler() {
        return new FlagsPageFault(pageReadyAsPageFault());
    }
}
