package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.guest.program.NmiHandler;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.truth.TokenFate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The two designs that never merged (DESIGN §1.5, reference §3): not-present in the #PF error
 * code, and a #VE-style exception with an information area per nesting level. The interleaving
 * of hazard (i) (an NMI at the handler's first instruction, whose handler takes a genuine #PF)
 * must leave them unharmed: nothing shared is there to steal.
 */
class ProposedDesignsTest {

    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"ERROR_CODE", "VE"})
    void theNmiWindowWithANestedFaultHasNoEffect(HostEra era) {
        Routine handler = era == HostEra.VE ? Routine.VE : Routine.PF_ERROR_CODE;
        for (long seed = 1; seed <= 20; seed++) {
            Rig rig = new Rig(TestSettings.matching(era).tasks(2).workingSet(16).mappedPages(1).build(), seed);
            rig.allResident();
            rig.settleWakeAll();
            rig.evictUser(0);
            rig.stepUntil("the async not-present delivered to task 0", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1
                    && rig.atEntry(handler));
            WorkItem w = rig.lastStarted();
            assertEquals(0, rig.vcpu.host().area().word(), "no shared word is written");
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "the NMI in the window");
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler done", 10_000, () -> !rig.vcpu.cpu().nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue; // its read hit the one mapped page: no nested fault this seed
            }
            rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
            assertEquals(TokenFate.State.AT_WORKER, rig.vcpu.sleepFate(0).state(), "asleep on its own token t");
            rig.complete(w);
            rig.stepUntil("task 0 woken by t's page-ready", () -> rig.vcpu.sleepingTasks() == 0);
            assertEquals(0, rig.sleepers.size());
            assertEquals(List.of(), rig.findings);
            return;
        }
        fail("no seed gave a nested #PF inside the NMI");
    }
}
