package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.truth.TokenFate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * host.bugs.page-ready-to-other-vcpu: the wake-before-wait of reference §4(iii), which needs
 * page-ready on another vCPU than the not-present's. Two scripted vCPUs of one guest; the test
 * carries the page-ready from vCPU 0's host to vCPU 1, as the engine's message would.
 */
class CrossVcpuPageReadyTest {

    private record Pair(Rig cpu0, Rig cpu1, WorkItem work) {}

    /** §4(iii) A rows 1-2: vCPU 0 took #PF(t) and has not locked the bucket; vCPU 1 leaves dummy{t, cpu1}. */
    private static Pair dummyLeftOnTheWakingCpu() {
        Settings s = TestSettings.interrupt().vcpus(2).hostBugs(new Settings.HostBugs(false, false, false, true))
                .tasks(1).workingSet(1).mappedPages(1).build();
        Rig cpu0 = new Rig(s, 1, 0);
        Rig cpu1 = new Rig(s, 2, 1, cpu0);
        cpu0.kernelResident();
        cpu1.allResident();
        cpu0.settleWakeAll();
        cpu1.settleWakeAll();
        cpu0.stepUntil("vCPU 0's task took the not-present #PF(t)",
                () -> cpu0.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && cpu0.atEntry(Routine.PF_INTERRUPT));
        WorkItem w = cpu0.lastStarted();
        cpu0.complete(w);
        cpu0.step();
        assertEquals(List.of(w), cpu0.handedOver, "vCPU 0's host dequeued t and handed its page-ready over");
        assertEquals(1, cpu0.count(Counter.APF_PAGE_READY_INJECTED), "nothing delivered on vCPU 0 but its wake-all");
        cpu1.vcpu.onPageReadyFromVcpu(w, cpu1.vcpu.nowNanos());
        cpu1.stepUntil("vCPU 1 left dummy{t, cpu1}, cleared the slot and ACKed", () -> cpu1.count(Counter.DUMMIES_CREATED) == 1
                && cpu1.vcpu.host().area().token() == 0 && !cpu1.vcpu.host().pageReadyPending());
        assertEquals(1, cpu0.sleepers.size());
        return new Pair(cpu0, cpu1, w);
    }

    @Test
    void behaviour22_theFaultingTaskFindsTheDummyFreesItAndDoesNotSleep() {
        // §5 behaviour 22, §4(iii) A rows 3-4
        Pair p = dummyLeftOnTheWakingCpu();
        Rig cpu0 = p.cpu0();
        cpu0.stepUntil("vCPU 0's task back in user mode past its access", () -> cpu0.at(Routine.USER, UserLoop.COMPUTE));
        assertEquals(0, cpu0.count(Counter.TASKS_SLEPT), "it did not sleep");
        assertEquals(0, cpu0.sleepers.size(), "GH is empty afterwards");
        assertEquals(List.of(), cpu0.findings);
        assertEquals(List.of(), p.cpu1().findings, "a dummy for another vCPU's token is not a leak");
    }

    @Test
    void behaviour23_aWakeAllOnTheWakingCpuUnlinksTheDummyUnfreed_theTaskThenSleepsForever() {
        // §5 behaviour 23, §4(iii) B [D]
        Pair p = dummyLeftOnTheWakingCpu();
        Rig cpu1 = p.cpu1();
        cpu1.vcpu.host().migrate();
        cpu1.stepUntil("a wake-all processed on vCPU 1", () -> cpu1.count(Counter.WAKE_ALLS) == 2
                && cpu1.findingCount(FindingKind.DUMMY_LEAK) == 1 && cpu1.routine() != Routine.WAKE);
        assertEquals(0, p.cpu0().sleepers.size(), "the dummy is unlinked");
        Rig cpu0 = p.cpu0();
        cpu0.stepUntil("vCPU 0's task asleep on t", () -> cpu0.vcpu.sleepingTasks() == 1);
        assertEquals(TokenFate.State.DELIVERED, cpu0.vcpu.sleepFate(0).state(), "its page-ready was already spent");
        cpu0.vcpu.run(cpu0.vcpu.nowNanos() + 5_000_000, Integer.MAX_VALUE);
        assertEquals(1, cpu0.vcpu.sleepingTasks(), "no pending wake: it sleeps until some wake-all on vCPU 0");
        cpu0.vcpu.reportLostWakeups();
        assertEquals(1, cpu0.findingCount(FindingKind.LOST_WAKEUP));
        assertTrue(cpu0.findingsOf(FindingKind.LOST_WAKEUP).get(0).detail().contains("token 0x1000"));
    }
}
