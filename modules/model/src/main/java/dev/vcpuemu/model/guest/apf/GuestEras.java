package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.settings.Settings.GuestEra;

/**
 * The one place a {@link GuestEra} is looked at: each era's class. Adding an era is one class
 * and one constant; this switch is exhaustive, so the compiler names the line to add.
 */
public final class GuestEras {
    private GuestEras() {
    }

    public static ApfEra of(GuestEra era) {
        return switch (era) {
            case LEGACY_EARLY -> new LegacyEarlyGuest();
            case LEGACY -> new LegacyGuest();
            case USER_ONLY -> new UserOnlyGuest();
            case INTERRUPT -> new InterruptGuest();
            case ERROR_CODE -> new ErrorCodeGuest();
            case VE -> new VeGuest();
        };
    }
}
