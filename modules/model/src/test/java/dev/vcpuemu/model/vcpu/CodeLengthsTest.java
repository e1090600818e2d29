package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.guest.program.NmiHandler;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * guest.code: the calibrated lengths are the widths of the windows. Each path runs exactly its
 * micro-ops, one boundary each, and an input due inside them lands inside them.
 */
class CodeLengthsTest {
    private static final Settings.Code CODE = new Settings.Code(6, 2, 20, 12, 130, 80, 6, 9, 14, 50);

    @Test
    void anNmiWithoutAUserReadRunsEntrySampleAndExit() {
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).tick(1_000_000_000L).code(CODE).build(), 7);
        rig.allResident();
        rig.settleWakeAll();
        rig.stepUntil("user code", () -> rig.at(Routine.USER, UserLoop.PICK));
        rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
        rig.step();
        assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY));
        int steps = 0;
        while (rig.routine() == Routine.NMI) {
            rig.step();
            steps++;
        }
        assertEquals(CODE.nmiEntry() + CODE.nmiSample() + CODE.nmiExit() + 1, steps, "entry, sample, exit, IRET");
        assertEquals(1, rig.count(Counter.NMIS_DELIVERED));
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void theNmiWindowIsTheEntryCodeUpToTheApfWordRead() {
        // reference §4(i): delivery of the async #PF to the read of the flags word is the window
        Rig rig = new Rig(TestSettings.matching(HostEra.INTERRUPT).tasks(2).workingSet(16).mappedPages(16)
                .tick(1_000_000_000L).code(CODE).build(), 8);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("async not-present #PF delivered", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1
                && rig.atEntry(Routine.PF_INTERRUPT));
        assertEquals(1, rig.vcpu.host().area().word(), "the flags word is set and unread");
        int boundaries = 0;
        while (rig.vcpu.host().area().word() != 0) {
            rig.step();
            boundaries++;
        }
        assertEquals(CODE.pfEntry() + CODE.pfBetweenReads(), boundaries,
                "the word is read on the window's last micro-op: an NMI due at any earlier boundary lands inside");
        assertEquals(List.of(), rig.findings);
    }
}
