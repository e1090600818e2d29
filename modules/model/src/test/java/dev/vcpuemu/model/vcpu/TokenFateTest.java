package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.TokenFate;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What became of the token a sleeping task waits on (ground truth, DESIGN §1.6), as the
 * findings name it, and the event sink that sees every event of a vCPU.
 */
class TokenFateTest {
    private static final int SEEDS = 20;

    @Test
    void aHungTaskNamesATokenStillAtItsWorker() {
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(4).mappedPages(4).hungTaskTimeout(5_000_000)
                .build(), 8);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem w = rig.lastStarted();
        rig.vcpu.run(7_000_000, Integer.MAX_VALUE);
        assertEquals(List.of("task 0 blocked for more than 5 ms waiting on token 0x1000: still at a paging worker (issued at "
                + TokenFate.millis(w.issuedAtNanos()) + ")"), CpuOfflineTest.details(rig, FindingKind.HUNG_TASK));
    }

    @Test
    void aTokenMovesFromTheWorkerToTheGuestAndTheFateEndsWithTheWait() {
        // reference §2.2: completion, done list, token slot and interrupt, wake
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(4).mappedPages(4).build(), 8);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem w = rig.lastStarted();
        assertEquals(TokenFate.of(TokenFate.State.AT_WORKER, w.issuedAtNanos()), rig.vcpu.sleepFate(0));
        rig.complete(w);
        long completedAt = rig.vcpu.nowNanos();
        rig.step();
        // The kick's entry dequeued it at once: completed and sent in the same boundary.
        assertEquals(w.token(), rig.vcpu.host().area().token());
        assertEquals(TokenFate.of(TokenFate.State.DELIVERED, completedAt), rig.vcpu.sleepFate(0));
        assertEquals("page-ready delivered at " + TokenFate.millis(completedAt), rig.vcpu.sleepFate(0).describe());
        rig.stepUntil("woken", () -> rig.vcpu.sleepingTasks() == 0);
        assertNull(rig.vcpu.sleepFate(0));
    }

    @Test
    void aPageReadyStolenInsideAnNmiIsNamedWithItsThief() {
        // reference §4(i) "Same window, legacy page-ready variant": the nested #PF consumes R = 2.
        for (long seed = 1; seed <= SEEDS; seed++) {
            Rig rig = new Rig(TestSettings.legacy().tasks(2).workingSet(16).mappedPages(1).hungTaskTimeout(50_000_000)
                    .wedgeTimeout(50_000_000).build(), seed);
            rig.allResident();
            rig.settleWakeAll();
            rig.evictUser(0);
            rig.stepUntil("task 0 asleep on t", () -> rig.vcpu.sleepingTasks() == 1);
            WorkItem w = rig.lastStarted();
            rig.complete(w);
            rig.stepUntil("page-ready #PF delivered", () -> rig.atEntry(Routine.PF_LEGACY) && rig.vcpu.host().area().word() == 2);
            long sentAt = rig.vcpu.sleepFate(0).atNanos();
            assertEquals(TokenFate.of(TokenFate.State.DELIVERED, sentAt), rig.vcpu.sleepFate(0));
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler faults or finishes", 10_000, () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine
                    || rig.count(Counter.SYNCHRONOUS_FAULTS) > 0 || !rig.vcpu.cpu().nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue;
            }
            rig.step();
            long b = rig.vcpu.cpu().cr2();
            if ((int) b == w.token()) {
                continue; // the nested wake would use t by accident (see NmiWindowTest)
            }
            rig.stepUntil("the nested handler consumed R", () -> rig.findingCount(FindingKind.APF_WORD_STOLEN) == 1);
            long stolenAt = rig.findingsOf(FindingKind.APF_WORD_STOLEN).get(0).atNanos();
            String thief = "the #PF handler serving genuine #PF at 0x" + Long.toHexString(b)
                    + " inside an NMI handler (§4(i)) at " + TokenFate.millis(stolenAt);
            assertEquals(new TokenFate(TokenFate.State.DELIVERED, sentAt, thief), rig.vcpu.sleepFate(0));
            rig.stepUntil("the fault at t handled", () -> rig.count(Counter.TASKS_KILLED) == 1 || rig.vcpu.dead());
            if (rig.vcpu.dead()) {
                continue; // the kernel oopsed on the fault at t: no hung task to look at
            }
            rig.vcpu.run(rig.vcpu.nowNanos() + 60_000_000, Integer.MAX_VALUE);
            assertEquals(List.of("task 0 blocked for more than 50 ms waiting on token 0x" + Integer.toHexString(w.token())
                    + ": page-ready delivered at " + TokenFate.millis(sentAt) + " and consumed by " + thief),
                    CpuOfflineTest.details(rig, FindingKind.HUNG_TASK));
            return;
        }
        fail("in " + SEEDS + " seeds no nested #PF stole the page-ready with the task surviving");
    }

    @Test
    void theSinkSeesEveryEventOfItsVcpu() {
        Rig rig = new Rig(TestSettings.interrupt().vcpus(3).tasks(1).workingSet(4).mappedPages(4)
                .hungTaskTimeout(5_000_000).build(), 8, 2);
        List<String> seen = new ArrayList<>();
        rig.vcpu.eventSink(new EventSink() {
            @Override
            public void event(int cpu, long at, TraceEvent what, long arg) {
                seen.add(cpu + " " + at + "ns " + what.text + " 0x" + Long.toHexString(arg));
            }

            @Override
            public void finding(int cpu, long at, FindingKind kind) {
                seen.add(cpu + " " + at + "ns " + kind.name() + " 0x0");
            }
        });
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
        assertEquals(0x1002, rig.lastStarted().token());
        rig.vcpu.run(7_000_000, Integer.MAX_VALUE);
        Finding hung = rig.findingsOf(FindingKind.HUNG_TASK).get(0);
        int at = seen.indexOf("2 " + hung.atNanos() + "ns HUNG_TASK 0x0") + 1;
        assertTrue(at > hung.events().size(), "the finding itself is an event: " + seen.size());
        List<String> tail = seen.subList(at - hung.events().size(), at);
        assertEquals(hung.events().stream().map(e -> "2 " + e).toList(), tail,
                "the finding's last events are the sink's last events, with the vCPU's id");
        assertTrue(seen.size() > hung.events().size(), "the sink saw more than the ring keeps");
        rig.vcpu.eventSink(null);
        int before = seen.size();
        rig.vcpu.run(8_000_000, Integer.MAX_VALUE);
        assertEquals(before, seen.size(), "no sink, no calls");
    }
}
