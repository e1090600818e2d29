package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest disables APF during a run (reference §4(v) "CPU offline", §2.5): the host flushes
 * its queue, so a task asleep on an issued token is woken only by the guest's own wake-all.
 * One task per vCPU, so the idle task (where the disable runs) only runs while it sleeps.
 */
class ApfDisableTest {
    private static final long DISABLE_AT = 200_000;

    private static Rig asleepAtDisable(boolean wakeAll, long reenableAfter) {
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(4).mappedPages(4)
                .apfDisable(DISABLE_AT, wakeAll, reenableAfter).build(), 5);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.userGfn(0, 1));
        rig.stepUntil("task asleep on an async #PF", () -> rig.vcpu.sleepingTasks() == 1);
        assertEquals(1, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        rig.stepUntil("the idle task disables APF", () -> !rig.vcpu.kernel().apfEnabled());
        assertTrue(rig.vcpu.nowNanos() >= DISABLE_AT);
        assertFalse(rig.vcpu.host().enabled(), "WRMSR EN=0 reached the host");
        return rig;
    }

    /**
     * Lets a halted vCPU take its HLT exit and wait, as the engine's run to a quantum end does
     * (one scripted step would run on to the next event instead).
     */
    private static void settleHalt(Rig rig) {
        rig.stepUntil("halted", () -> rig.vcpu.cpu().halted());
        rig.vcpu.run(rig.vcpu.nowNanos() + 1, Integer.MAX_VALUE);
    }

    @Test
    void withTheGuestsWakeAllTheSleeperRetriesAndFaultsSynchronously() {
        Rig rig = asleepAtDisable(true, -1);
        rig.stepUntil("the sleeper woken by the guest's own wake-all", () -> rig.vcpu.sleepingTasks() == 0);
        // Its retry finds the page still out: with APF off the host halts the vCPU (§2.5).
        WorkItem w = rig.lastStarted();
        rig.stepUntil("the retry is handled without an async #PF", () -> rig.count(Counter.SYNTHETIC_HALTS) > 0);
        assertEquals(1, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "no not-present once APF is off");
        rig.complete(w);
        rig.steps(200);
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(0, rig.findingCount(FindingKind.LOST_WAKEUP));
    }

    @Test
    void withoutItTheSleeperIsLostAndTheVcpuQuiescent() {
        Rig rig = asleepAtDisable(false, -1);
        WorkItem w = rig.lastStarted();
        rig.complete(w); // the worker finishes, but the host flushed the queue at the disable
        rig.steps(20);
        settleHalt(rig);
        assertTrue(rig.vcpu.quiescent(), "halted in idle, nothing queued, nothing deliverable");
        assertEquals(1, rig.vcpu.sleepingTasks());
        assertEquals(1, rig.vcpu.host().flushed(), "the completion of a flushed generation is dropped");
        assertTrue(rig.vcpu.nextDueNanos() > rig.vcpu.nowNanos(), "only the periodic tick is due");

        rig.vcpu.reportLostWakeups();
        Finding f = rig.findingsOf(FindingKind.LOST_WAKEUP).get(0);
        assertTrue(f.detail().contains("task 0 of vCPU 0") && f.detail().contains(Integer.toHexString(w.token()))
                && f.detail().contains("disabled APF"), f.detail());
    }

    @Test
    void reEnablingQueuesTheHostsWakeAllWhichRescuesTheSleeper() {
        Rig rig = asleepAtDisable(false, 100_000);
        rig.complete(rig.lastStarted());
        long wakeAlls = rig.count(Counter.WAKE_ALLS);
        rig.stepUntil("APF enabled again", () -> rig.vcpu.kernel().apfEnabled());
        rig.stepUntil("the host's wake-all of the enable wakes the sleeper", () -> rig.vcpu.sleepingTasks() == 0);
        assertEquals(wakeAlls + 1, rig.count(Counter.WAKE_ALLS));
        assertEquals(0, rig.findingCount(FindingKind.LOST_WAKEUP));
    }

    @Test
    void aHaltedIdleVcpuWithAQueuedInputIsNotQuiescent() {
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(4).mappedPages(4).build(), 5);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.userGfn(0, 1));
        rig.stepUntil("task asleep", () -> rig.vcpu.sleepingTasks() == 1);
        settleHalt(rig);
        WorkItem w = rig.lastStarted();
        assertTrue(rig.vcpu.quiescent(), "asleep with its completion still at the worker: nothing due here");
        rig.memory.makeResident(w.gfn());
        rig.vcpu.onWorkDone(w, rig.vcpu.nowNanos() + 50_000);
        assertFalse(rig.vcpu.quiescent());
        assertEquals(rig.vcpu.nowNanos() + 50_000, rig.vcpu.nextDueNanos(), "due at the completion's time");
    }
}
