package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.HostRules;
import dev.vcpuemu.model.host.PageReadyChannel;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What each era maps to, as architecture.md's walk-through "adding an era" describes it: every
 * guest era is one class of its own (with the #PF handler it installs), every host era one row
 * of rules. A new constant without its class does not compile; this table says what the
 * existing ones are, so a change to the mapping is a visible change here.
 */
class EraClassesTest {

    @Test
    void everyGuestEraIsOneClassWithItsPageFaultHandler() {
        Map<GuestEra, String> expected = new EnumMap<>(GuestEra.class);
        expected.put(GuestEra.LEGACY_EARLY, "LegacyEarlyGuest PF_LEGACY_EARLY");
        expected.put(GuestEra.LEGACY, "LegacyGuest PF_LEGACY");
        expected.put(GuestEra.USER_ONLY, "UserOnlyGuest PF_INTERRUPT");
        expected.put(GuestEra.INTERRUPT, "InterruptGuest PF_INTERRUPT");
        expected.put(GuestEra.ERROR_CODE, "ErrorCodeGuest PF_ERROR_CODE");
        expected.put(GuestEra.VE, "VeGuest PF_ERROR_CODE");
        Map<GuestEra, String> actual = new EnumMap<>(GuestEra.class);
        for (GuestEra era : GuestEra.values()) {
            var apf = GuestEras.of(era);
            Routine handler = apf.pageFaultHandler().routine;
            actual.put(era, apf.getClass().getSimpleName() + " " + handler);
        }
        assertEquals(expected, actual);
        assertEquals(GuestEra.values().length, new HashSet<>(actual.values().stream()
                .map(v -> v.split(" ")[0]).toList()).size(), "one class per era");
    }

    @Test
    void everyHostEraIsOneRowOfRules() {
        // channel, pending-exception check, guest mode needs bit 2, one completion per check,
        // #DF guard, page-ready only if injected, reserved EN bits, CPUID bits, dated fixes
        Map<HostEra, String> expected = new EnumMap<>(HostEra.class);
        expected.put(HostEra.LEGACY_EARLY, "REASON_WORD false true true false false 0x3c [] false");
        expected.put(HostEra.LEGACY_DF_GUARD, "REASON_WORD false true true true false 0x38 [ASYNC_PF_VMEXIT] false");
        expected.put(HostEra.LEGACY, "REASON_WORD true false false false false 0x38 [ASYNC_PF_VMEXIT] false");
        expected.put(HostEra.LEGACY_FIXED, "REASON_WORD true false false false true 0x38 [ASYNC_PF_VMEXIT] false");
        expected.put(HostEra.INTERRUPT, "TOKEN_SLOT true false false false true 0x30 [ASYNC_PF_VMEXIT, ASYNC_PF_INT] true");
        expected.put(HostEra.ERROR_CODE, "TOKEN_SLOT true false false false true 0x20"
                + " [ASYNC_PF_VMEXIT, ASYNC_PF_INT, NOT_PRESENT_IN_ERROR_CODE] true");
        expected.put(HostEra.VE, "TOKEN_SLOT true false false false true 0x10 [ASYNC_PF_VMEXIT, ASYNC_PF_INT, ASYNC_PF_VE] true");
        Map<HostEra, String> actual = new EnumMap<>(HostEra.class);
        for (HostEra era : HostEra.values()) {
            HostRules r = HostRules.of(era);
            actual.put(era, String.join(" ", r.channel().name(), "" + r.checksPendingException(),
                    "" + r.guestModeNeedsVmexitBit(), "" + r.oneCompletionPerCheck(), "" + r.doubleFaultGuard(),
                    "" + r.pageReadyOnlyIfInjected(), "0x" + Long.toHexString(r.reservedEnBits()),
                    Arrays.toString(r.cpuid().stream().sorted().toArray()), "" + r.datedFixes()));
        }
        assertEquals(expected, actual);
        assertEquals(PageReadyChannel.Kind.REASON_WORD, HostRules.of(HostEra.LEGACY).channel());
    }
}
