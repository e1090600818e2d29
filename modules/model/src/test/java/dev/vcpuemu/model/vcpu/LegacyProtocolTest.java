package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.Syscall;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Protocol (a): legacy host with legacy guest, both events over #PF (reference §2.1). */
class LegacyProtocolTest {

    /** One async #PF delivery as the handler saw it before its first micro-op. */
    record PfDelivery(long cr2, int word, int task) {}

    @Test
    void behaviour01_basicLegacyCycle() {
        // reference §5 behaviour 1, §2.1
        Rig rig = new Rig(TestSettings.legacy().tasks(2).workingSet(4).mappedPages(4).build(), 11);
        rig.allResident();
        rig.settleWakeAll();
        int target = rig.userGfn(0, 2);
        rig.memory.evict(target);
        long tokensBefore = rig.count(Counter.TOKENS_ISSUED);
        assertEquals(0, tokensBefore);

        List<PfDelivery> async = recordAsyncPf(rig, Routine.PF_LEGACY);
        // Not-present: exactly one #PF with R=1 and CR2 = t, delivered to task 0.
        rig.stepUntil("task 0 faults on its evicted page",
                () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && rig.atEntry(Routine.PF_LEGACY));
        WorkItem w = rig.lastStarted();
        assertEquals(target, w.gfn());
        assertEquals(0x1000, w.token(), "first token of vCPU 0");
        assertEquals(w.token() & 0xFFFFFFFFL, rig.vcpu.cpu().cr2(), "CR2 = token at the handler's first micro-op");
        assertEquals(1, rig.vcpu.host().area().word(), "R = 1 (page not present)");
        assertTrue(rig.vcpu.host().outstanding(target));

        // The handler reads and clears R, the task sleeps and another task runs.
        rig.stepUntil("task 0 asleep and task 1 running",
                () -> rig.vcpu.sleepingTasks() == 1 && rig.vcpu.currentTask() == 1);
        assertEquals(0, rig.vcpu.host().area().word(), "R is 0 after the not-present handler");

        // Page ready: exactly one #PF with R=2 and CR2 = t.
        rig.complete(w);
        rig.stepUntil("page-ready #PF delivered",
                () -> rig.count(Counter.APF_PAGE_READY_INJECTED) == 2 && rig.atEntry(Routine.PF_LEGACY));
        assertEquals(w.token() & 0xFFFFFFFFL, rig.vcpu.cpu().cr2());
        assertEquals(2, rig.vcpu.host().area().word(), "R = 2 (page ready)");
        assertFalse(rig.vcpu.host().outstanding(target));

        // Task 0 wakes, retries the faulting access and completes it without another host fault.
        rig.stepUntil("task 0 woken", () -> rig.vcpu.sleepingTasks() == 0);
        assertEquals(0, rig.vcpu.host().area().word(), "R is 0 after the page-ready handler");
        rig.stepUntil("task 0 back at its faulting access",
                () -> rig.vcpu.currentTask() == 0 && rig.at(Routine.USER, UserLoop.ACCESS));
        rig.step();
        assertTrue(rig.vcpu.currentTask() == 0 && rig.routine() == Routine.USER
                && rig.pc() != 1, "the retried access retired at once (prefaulted)");

        assertEquals(List.of(new PfDelivery(w.token() & 0xFFFFFFFFL, 1, 0), new PfDelivery(w.token() & 0xFFFFFFFFL, 2, 1)),
                async, "exactly one not-present and one page-ready #PF");
        assertEquals(1, rig.count(Counter.TOKENS_ISSUED));
        assertEquals(1, rig.started.size());
        assertEquals(0, rig.count(Counter.SYNTHETIC_HALTS));
        assertEquals(0, rig.count(Counter.SYNCHRONOUS_FAULTS));
        assertEquals(1, rig.count(Counter.TASKS_SLEPT));
        assertEquals(1, rig.count(Counter.TASKS_WOKEN));
        assertEquals(0, rig.sleepers.size());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour08_wakeAllAtEnableLegacy() {
        // reference §5 behaviour 8, §2.1 "Enable (host)", §4(v)
        Rig rig = new Rig(TestSettings.legacy().tasks(2).build(), 12);
        rig.allResident();
        Rig.PreEnableSleepers before = rig.plantPreEnableSleepers();
        List<PfDelivery> async = recordAsyncPf(rig, Routine.PF_LEGACY);
        rig.settleWakeAll();

        assertEquals(1, async.size(), "one page-ready #PF: " + async);
        assertEquals(Apf.WAKE_ALL_TOKEN & 0xFFFFFFFFL, async.get(0).cr2(), "CR2 = 0xFFFFFFFF");
        assertEquals(2, async.get(0).word(), "R = 2");
        assertEquals(1, rig.count(Counter.APF_PAGE_READY_INJECTED));
        before.assertOnlyThisCpuWoken(rig);
        assertTrue(rig.remoteWakes.isEmpty());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour13_legacyPageReadyHeldByIfZeroUntilNextExit() {
        // reference §5 behaviour 13, §2.1 "Page ready (host)" step 4, §4(xiii)
        long interval = 200_000;
        Rig rig = new Rig(TestSettings.legacy().tasks(2).workingSet(2).mappedPages(2)
                .syscalls(0.5, 20, 0, 1.0).exitInterval(interval).tick(1_000_000_000L).build(), 13);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep on a not-present", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem w = rig.lastStarted();
        rig.stepUntil("task 1 inside an IRQ-disabled section, away from an exit",
                () -> rig.vcpu.currentTask() == 1 && rig.at(Routine.SYSCALL, Syscall.ACCESS) && !rig.vcpu.cpu().interruptFlag()
                        && rig.vcpu.nowNanos() % interval < interval / 2);
        long pageReadyBefore = rig.count(Counter.APF_PAGE_READY_INJECTED);
        rig.complete(w);
        rig.stepUntil("IF=1 again", () -> rig.vcpu.cpu().interruptFlag());
        long ifOn = rig.vcpu.nowNanos();
        // Mirror the periodic exits (no HLT or stall moves time in jumps here): the page-ready
        // must be injected exactly at the first exit that finds IF=1 and no shadow.
        long nextExit = (ifOn / interval + 1) * interval;
        long firstOpenExit = -1;
        int boundaries = 0;
        while (rig.count(Counter.APF_PAGE_READY_INJECTED) == pageReadyBefore) {
            assertTrue(firstOpenExit < 0, "an exit with IF=1 at " + firstOpenExit + " ns did not inject the page-ready");
            long t = rig.vcpu.nowNanos();
            if (t >= nextExit) {
                nextExit += interval;
                if (rig.vcpu.cpu().interruptAllowed()) {
                    firstOpenExit = t;
                }
            }
            assertTrue(++boundaries < Rig.MAX_STEPS, "page-ready never injected");
            rig.step();
        }
        assertEquals(firstOpenExit, rig.vcpu.nowNanos() - rig.settings.engine().opCostNanos(),
                "injected at the first exit with IF=1, " + (firstOpenExit - ifOn) + " ns after IF=1");
        assertTrue(rig.atEntry(Routine.PF_LEGACY) && rig.vcpu.host().area().word() == 2, "the page-ready #PF");
        assertTrue(firstOpenExit - ifOn > 10 * rig.settings.engine().opCostNanos(), "a long IF=1 stretch without delivery");
        rig.stepUntil("task 0 woken", () -> rig.vcpu.sleepingTasks() == 0);
        assertEquals(List.of(), rig.findings);
    }

    /** Records, after every step, each #PF delivery whose APF word is non-zero (an async one). */
    static List<PfDelivery> recordAsyncPf(Rig rig, Routine routine) {
        List<PfDelivery> out = new ArrayList<>();
        rig.observe(() -> {
            if (rig.atEntry(routine) && rig.vcpu.host().area().word() != 0) {
                out.add(new PfDelivery(rig.vcpu.cpu().cr2(), rig.vcpu.host().area().word(), rig.vcpu.currentTask()));
            }
        });
        return out;
    }
}
