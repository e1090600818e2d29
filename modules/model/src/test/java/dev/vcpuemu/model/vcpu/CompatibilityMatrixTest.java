package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reference §2.6, the compatibility matrix, for the eras the model has: a mismatched host and
 * guest fall back as KVM does, to no APF event at all; non-resident faults are served by
 * synthetic halts (IF=1) or synchronously (§2.5). Behaviours 9 and 10 of §5.
 */
class CompatibilityMatrixTest {

    /** Boots, evicts the task's pages and plays the paging worker until {@code faults} host faults were served. */
    private static Rig faultRepeatedly(HostEra host, GuestEra guest, int faults) {
        Rig rig = new Rig(TestSettings.interrupt().eras(host, guest).tasks(1).workingSet(8).mappedPages(8).build(), 11);
        rig.allResident();
        rig.stepUntil("boot done", () -> rig.routine() != Routine.BOOT && rig.vcpu.nowNanos() > 0);
        int served = 0;
        while (served < faults) {
            rig.evictUser(0);
            int before = rig.started.size();
            long stalls = rig.count(Counter.SYNCHRONOUS_FAULTS);
            rig.stepUntil("a host fault", () -> rig.started.size() > before || rig.count(Counter.SYNCHRONOUS_FAULTS) > stalls);
            for (WorkItem w : List.copyOf(rig.started.subList(before, rig.started.size()))) {
                rig.complete(w);
            }
            rig.allResident();
            rig.steps(200);
            served++;
        }
        return rig;
    }

    private static void assertNoApfEvent(Rig rig) {
        assertFalse(rig.vcpu.host().enabled(), "the host counts APF as disabled");
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "no not-present injected");
        assertEquals(0, rig.count(Counter.APF_PAGE_READY_INJECTED), "no page-ready, not even the enable's wake-all");
        assertEquals(0, rig.count(Counter.TASKS_SLEPT), "no task ever sleeps on a token");
        assertTrue(rig.count(Counter.SYNTHETIC_HALTS) + rig.count(Counter.SYNCHRONOUS_FAULTS) >= 5,
                "faults are served by synthetic halts or synchronously: " + rig.vcpu.counters().toMap());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour09_legacyGuestOnAnInterruptHostEnablesWithoutGpButGetsNoApf() {
        // §2.2 "Host enable": EN with bit 0 but not bit 3 counts as disabled, deliberately (M-2023).
        Rig rig = faultRepeatedly(HostEra.INTERRUPT, GuestEra.LEGACY, 5);
        assertTrue(rig.vcpu.kernel().apfEnabled(), "the guest's WRMSR succeeded: it believes APF is on");
        assertEquals(Msr.EN_ENABLED, rig.vcpu.host().msrEn() & (Msr.EN_ENABLED | Msr.EN_DELIVERY_AS_INT),
                "bit 0 written, bit 3 not");
        assertEquals(0, rig.count(Counter.MSR_WRITES_REFUSED), "no #GP");
        assertNoApfEvent(rig);
    }

    @Test
    void behaviour10_interruptGuestOnALegacyHostNeverWritesEn() {
        // No CPUID bit 14 on a legacy host: the 5.9+ guest does not enable APF at all.
        Rig rig = faultRepeatedly(HostEra.LEGACY, GuestEra.INTERRUPT, 5);
        assertFalse(rig.vcpu.kernel().apfEnabled());
        assertEquals(0, rig.vcpu.host().msrEn(), "EN never written");
        assertNoApfEvent(rig);
    }

    @Test
    void behaviour30_aRefusedWrmsrRaisesGpAndWrmsrlsFixupSkipsIt() {
        // reference §5 behaviour 30, §1.3: without an in-kernel LAPIC the host refuses PF_INT and a
        // non-zero EN with #GP. Linux writes them with wrmsrl: the exception fixup warns ("unchecked
        // MSR access error") and resumes after the WRMSR, and the guest marks APF enabled anyway.
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(8).mappedPages(8).build(), 12);
        rig.vcpu.host().inKernelLapic(false);
        rig.allResident();
        int[] gps = {0};
        rig.observe(() -> gps[0] += rig.atEntry(Routine.GP_FIXUP) ? 1 : 0);
        rig.stepUntil("boot done", () -> rig.vcpu.kernel().apfEnabled() && rig.routine() != Routine.BOOT);
        assertEquals(2, gps[0], "a #GP delivered for PF_INT, another for EN");
        assertEquals(2, rig.count(Counter.MSR_WRITES_REFUSED));
        assertTrue(rig.vcpu.kernel().apfEnabled(), "the guest believes APF is on");
        assertEquals(0, rig.vcpu.host().msrEn(), "the refused writes changed nothing");
        assertFalse(rig.vcpu.host().enabled());
        assertEquals(List.of(), rig.findings);
    }
}
