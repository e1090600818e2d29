package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.host.WorkItem;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Vcpu#quiescent()} and {@link Vcpu#nextDueNanos()}, which the engines use to end a run
 * whose vCPUs can no longer change by themselves and to jump over empty quanta (DESIGN §3).
 * The vCPU is run as the engine runs it, to a quantum end, not one scripted boundary at a time.
 */
class QuiescenceTest {
    private static final long TICK = 1_000_000;

    /** One task asleep on an async #PF whose work item the test holds; the vCPU idles in HLT. */
    private static Rig idleWithASleeper(TestSettings s) {
        Rig rig = new Rig(s.tasks(1).workingSet(4).mappedPages(4).tick(TICK).build(), 7);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
        rig.vcpu.run(900_000, Integer.MAX_VALUE);
        assertEquals(900_000, rig.vcpu.nowNanos());
        assertTrue(rig.vcpu.cpu().halted());
        assertEquals(-1, rig.vcpu.currentTask());
        return rig;
    }

    @Test
    void aHaltedIdleVcpuIsQuiescentAndDueAtItsNextTick() {
        Rig rig = idleWithASleeper(TestSettings.interrupt());
        assertTrue(rig.vcpu.quiescent(), "its token is at a worker: only outside input can wake it");
        assertEquals(TICK, rig.vcpu.nextDueNanos());
    }

    @Test
    void queuedInputsMakeItDueAtTheFirstOfThem() {
        Rig rig = idleWithASleeper(TestSettings.interrupt());
        WorkItem w = rig.lastStarted();
        rig.vcpu.onNmi(950_000, 0.0);
        assertFalse(rig.vcpu.quiescent(), "an NMI is queued");
        assertEquals(950_000, rig.vcpu.nextDueNanos());
        rig.memory.makeResident(w.gfn());
        rig.vcpu.onWorkDone(w, 920_000);
        assertFalse(rig.vcpu.quiescent());
        assertEquals(920_000, rig.vcpu.nextDueNanos(), "the completion comes first");

        // The completion wakes the task, which then runs: due now, never quiescent.
        rig.allResident();
        rig.vcpu.run(930_000, Integer.MAX_VALUE);
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(0, rig.vcpu.currentTask());
        assertFalse(rig.vcpu.quiescent());
        assertEquals(rig.vcpu.nowNanos(), rig.vcpu.nextDueNanos());
    }

    @Test
    void aGuestApfDisableStillToComeKeepsItBusy() {
        Rig rig = idleWithASleeper(TestSettings.interrupt().apfDisable(1_500_000, false, -1));
        assertFalse(rig.vcpu.quiescent(), "the disable will happen without outside input");
        assertEquals(TICK, rig.vcpu.nextDueNanos(), "the tick comes first");
        rig.vcpu.run(1_200_000, Integer.MAX_VALUE);
        assertEquals(1_500_000, rig.vcpu.nextDueNanos());
        rig.vcpu.run(1_900_000, Integer.MAX_VALUE);
        assertFalse(rig.vcpu.kernel().apfEnabled(), "disabled at its time");
        assertTrue(rig.vcpu.quiescent(), "nothing more to come");
        assertEquals(2 * TICK, rig.vcpu.nextDueNanos());
    }

    @Test
    void aDisableOnAnotherVcpuDoesNotConcernThisOne() {
        Rig rig = idleWithASleeper(TestSettings.interrupt().vcpus(2).apfDisable(1_500_000, List.of(1), false, -1));
        assertTrue(rig.vcpu.quiescent());
        rig.vcpu.run(1_900_000, Integer.MAX_VALUE);
        assertTrue(rig.vcpu.kernel().apfEnabled(), "vCPU 0 is not in apf-disable.vcpus");
    }

    @Test
    void aVcpuWhoseWorkloadHasNotStartedIsNotQuiescent() {
        // Without APF there is no wake-all at enable: the idle HLT after boot lasts until the
        // first tick, whose HLT exit starts the tasks. Until then the vCPU is not quiescent.
        Rig rig = new Rig(TestSettings.interrupt().asyncPf(false).tasks(1).workingSet(4).mappedPages(4).tick(TICK)
                .build(), 7);
        rig.allResident();
        rig.vcpu.run(TICK / 2, Integer.MAX_VALUE);
        assertTrue(rig.vcpu.cpu().halted(), "halted in the idle loop after boot, waiting for the tick");
        assertEquals(-1, rig.vcpu.currentTask());
        assertEquals(0, rig.count(dev.vcpuemu.model.stats.Counter.APF_PAGE_READY_INJECTED), "no wake-all without APF");
        assertFalse(rig.vcpu.quiescent(), "the first tick will start the workload");
        rig.vcpu.run(TICK + 100_000, Integer.MAX_VALUE);
        assertTrue(rig.count(dev.vcpuemu.model.stats.Counter.MICRO_OPS) > 100, "the task ran after the tick");
    }
}
