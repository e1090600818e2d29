package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.Platform;

/**
 * Linux 5.8 (G58, reference §2.3, §2.6): user mode only (send-always never set, the halt path
 * gone, a kernel-mode or IF=0 async #PF panics), the hook in {@code exc_page_fault}, but
 * page-ready still a #PF with reason 2 and no interrupt bit.
 */
final class UserOnlyGuest extends FlagsGuest {
    @Override
    public boolean enables(Platform platform) {
        return true;
    }

    @Override
    public boolean pageReadyAsPageFault() {
        return true;
    }

    @Override
    public long enableBits(boolean preempt) {
        return 0;
    }
}
