package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.guest.program.PageReadyIrq;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.Syscall;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Protocol (b): interrupt host with interrupt guest, page-ready on vector 0xF3 (reference §2.2). */
class InterruptProtocolTest {

    /** Token slot values seen by each page-ready IRQ handler at its read of the slot. */
    private static List<Integer> recordPageReadyIrqs(Rig rig) {
        List<Integer> out = new ArrayList<>();
        rig.observe(() -> {
            if (rig.at(Routine.PAGE_READY_IRQ, PageReadyIrq.READ_TOKEN)) {
                out.add(rig.vcpu.host().area().token());
            }
        });
        return out;
    }

    @Test
    void behaviour02_basicInterruptCycle() {
        // reference §5 behaviour 2, §2.2
        Rig rig = new Rig(TestSettings.interrupt().tasks(2).workingSet(4).mappedPages(4).build(), 21);
        rig.allResident();
        rig.settleWakeAll();
        int target = rig.userGfn(0, 1);
        rig.memory.evict(target);
        List<LegacyProtocolTest.PfDelivery> async = LegacyProtocolTest.recordAsyncPf(rig, Routine.PF_INTERRUPT);
        List<Integer> irqs = recordPageReadyIrqs(rig);

        rig.stepUntil("not-present #PF delivered",
                () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && rig.atEntry(Routine.PF_INTERRUPT));
        WorkItem w = rig.lastStarted();
        assertEquals(target, w.gfn());
        assertEquals(w.token() & 0xFFFFFFFFL, rig.vcpu.cpu().cr2(), "CR2 = token");
        assertEquals(1, rig.vcpu.host().area().word(), "F = 1 (page not present)");
        rig.stepUntil("task 0 asleep, task 1 running", () -> rig.vcpu.sleepingTasks() == 1 && rig.vcpu.currentTask() == 1);
        assertEquals(0, rig.vcpu.host().area().word(), "F cleared by the #PF handler");
        assertEquals(0, rig.vcpu.host().area().token(), "no page-ready yet");

        rig.complete(w);
        rig.stepUntil("page-ready IRQ reads the token slot", () -> rig.at(Routine.PAGE_READY_IRQ, PageReadyIrq.READ_TOKEN));
        assertEquals(w.token(), rig.vcpu.host().area().token(), "T = t");
        assertTrue(rig.vcpu.host().pageReadyPending());
        rig.stepUntil("handler about to ACK", () -> rig.at(Routine.PAGE_READY_IRQ, PageReadyIrq.ACK));
        assertEquals(0, rig.vcpu.host().area().token(), "T := 0 before the ACK");
        assertTrue(rig.vcpu.host().pageReadyPending(), "not yet acknowledged");
        assertEquals(0, rig.vcpu.sleepingTasks(), "the task was woken by the handler");
        rig.step();
        assertFalse(rig.vcpu.host().pageReadyPending(), "WRMSR ACK cleared pageready_pending");

        rig.stepUntil("task 0 back at its faulting access", () -> rig.vcpu.currentTask() == 0 && rig.at(Routine.USER, UserLoop.ACCESS));
        rig.step();
        assertTrue(rig.vcpu.currentTask() == 0 && rig.routine() == Routine.USER && rig.pc() != 1,
                "the retried access retired at once");

        assertEquals(List.of(new LegacyProtocolTest.PfDelivery(w.token() & 0xFFFFFFFFL, 1, 0)), async);
        assertEquals(List.of(w.token()), irqs, "exactly one page-ready IRQ, with T = t");
        assertEquals(1, rig.count(Counter.TOKENS_ISSUED));
        assertEquals(0, rig.count(Counter.SYNTHETIC_HALTS) + rig.count(Counter.SYNCHRONOUS_FAULTS));
        assertEquals(0, rig.sleepers.size());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour08_wakeAllAtEnableInterrupt() {
        // reference §5 behaviour 8, §2.2 "Host enable", §4(v)
        Rig rig = new Rig(TestSettings.interrupt().tasks(2).build(), 22);
        rig.allResident();
        Rig.PreEnableSleepers before = rig.plantPreEnableSleepers();
        List<Integer> irqs = recordPageReadyIrqs(rig);
        rig.stepUntil("wake-all IRQ raised", () -> rig.vcpu.cpu().irrPending(Vector.ASYNC_PF));
        assertEquals(Apf.WAKE_ALL_TOKEN, rig.vcpu.host().area().token(), "T = 0xFFFFFFFF");
        assertTrue(rig.vcpu.host().pageReadyPending());
        assertFalse(rig.vcpu.cpu().interruptFlag(), "still booting with IF=0: the IRQ waits in IRR");
        rig.settleWakeAll();

        assertEquals(List.of(Apf.WAKE_ALL_TOKEN), irqs);
        before.assertOnlyThisCpuWoken(rig);
        assertEquals(0, rig.vcpu.host().area().token());
        assertFalse(rig.vcpu.host().pageReadyPending(), "acknowledged");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour11_onePageReadyOutstanding() {
        // reference §5 behaviour 11, §2.2 "Page ready (host)", §4(iv)
        Rig rig = new Rig(TestSettings.interrupt().tasks(3).workingSet(1).mappedPages(1).build(), 23);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("three tasks asleep on three tokens", () -> rig.vcpu.sleepingTasks() == 3);
        assertEquals(3, rig.started.size());
        List<WorkItem> works = List.copyOf(rig.started);
        assertEquals(List.of(0x1000, 0x2000, 0x3000), works.stream().map(WorkItem::token).toList());

        List<String> log = new ArrayList<>();
        long[] acks = {0};
        int[] prevSlot = {rig.vcpu.host().area().token()};
        String[] prev = {rig.routine() + ":" + rig.pc()};
        long injectedBase = rig.count(Counter.APF_PAGE_READY_INJECTED);
        long[] deliveries = {0};
        rig.observe(() -> {
            int slot = rig.vcpu.host().area().token();
            if (prevSlot[0] != 0 && slot != 0 && slot != prevSlot[0]) {
                fail("token slot overwritten while non-zero: 0x" + Integer.toHexString(prevSlot[0])
                        + " -> 0x" + Integer.toHexString(slot));
            }
            prevSlot[0] = slot;
            String now = rig.routine() + ":" + rig.pc();
            if (rig.at(Routine.PAGE_READY_IRQ, PageReadyIrq.ENTER)) {
                deliveries[0]++;
            }
            if (rig.at(Routine.PAGE_READY_IRQ, PageReadyIrq.READ_TOKEN)) {
                log.add("IRQ 0x" + Integer.toHexString(slot));
            }
            if (prev[0].equals("PAGE_READY_IRQ:" + PageReadyIrq.ACK) && now.equals("PAGE_READY_IRQ:" + PageReadyIrq.EXIT)) {
                acks[0]++;
                log.add("ACK");
            }
            prev[0] = now;
            long outstanding = rig.count(Counter.APF_PAGE_READY_INJECTED) - injectedBase - acks[0];
            if (outstanding < 0 || outstanding > 1) {
                fail("page-ready events outstanding: " + outstanding + " (log " + log + ")");
            }
        });

        // Three completions back to back, at the same instant.
        for (WorkItem w : works) {
            rig.memory.makeResident(w.gfn());
            rig.vcpu.onWorkDone(w, rig.vcpu.nowNanos());
        }
        rig.stepUntil("all three woken and acknowledged", () -> rig.vcpu.sleepingTasks() == 0
                && rig.vcpu.host().queued() == 0 && !rig.vcpu.host().pageReadyPending() && acks[0] == 3);

        assertEquals(List.of("IRQ 0x1000", "ACK", "IRQ 0x2000", "ACK", "IRQ 0x3000", "ACK"), log);
        assertEquals(3, rig.count(Counter.APF_PAGE_READY_INJECTED) - injectedBase);
        assertEquals(3, deliveries[0], "every raised IRQ was delivered: none coalesced");
        assertEquals(0, rig.sleepers.size());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour14_interruptPageReadyHeldByIfZero() {
        // reference §5 behaviour 14, §3 "INT page ready", §1.8 (STI shadow)
        Rig rig = new Rig(TestSettings.interrupt().tasks(2).workingSet(2).mappedPages(2)
                .syscalls(0.5, 20, 0, 1.0).exitInterval(10_000_000_000L).build(), 24);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep on a not-present", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem w = rig.lastStarted();
        rig.stepUntil("task 1 inside an IRQ-disabled section",
                () -> rig.vcpu.currentTask() == 1 && rig.at(Routine.SYSCALL, Syscall.ACCESS) && !rig.vcpu.cpu().interruptFlag());

        rig.complete(w);
        rig.step();
        assertTrue(rig.vcpu.cpu().irrPending(Vector.ASYNC_PF), "the kick raised the page-ready IRQ at once");
        assertEquals(w.token(), rig.vcpu.host().area().token());
        int held = 0;
        while (!rig.vcpu.cpu().interruptFlag()) {
            assertEquals(Routine.SYSCALL, rig.routine(), "not delivered while IF=0");
            assertTrue(rig.vcpu.cpu().irrPending(Vector.ASYNC_PF), "pending in IRR");
            assertTrue(++held < 1000, "IF never became 1");
            rig.step();
        }
        assertTrue(held > 1, "the completion arrived well inside the IF=0 section");
        // STI just executed: one more micro-op runs in its shadow, then the IRQ is taken.
        assertFalse(rig.vcpu.cpu().interruptAllowed(), "STI shadow");
        assertTrue(rig.vcpu.cpu().irrPending(Vector.ASYNC_PF));
        rig.step();
        assertFalse(rig.routine() == Routine.PAGE_READY_IRQ, "not delivered in the STI shadow");
        rig.step();
        assertTrue(rig.at(Routine.PAGE_READY_IRQ, PageReadyIrq.ENTER), "delivered at the first boundary with IF=1 and no shadow, without an exit");
        assertFalse(rig.vcpu.cpu().irrPending(Vector.ASYNC_PF));
        rig.stepUntil("task 0 woken and page-ready acknowledged",
                () -> rig.vcpu.sleepingTasks() == 0 && !rig.vcpu.host().pageReadyPending());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour29_ackBeforeClearingTheSlotStallsTheRemainingCompletions() {
        // reference §5 behaviour 29 [D], §4(iv) "Derived corner": guest.bugs.ack-before-clear
        Rig rig = new Rig(TestSettings.interrupt().guestBugs(new Settings.GuestBugs(true)).tasks(3).workingSet(1)
                .mappedPages(1).build(), 23);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("three tasks asleep on three tokens", () -> rig.vcpu.sleepingTasks() == 3);
        List<WorkItem> works = List.copyOf(rig.started);
        long injectedBase = rig.count(Counter.APF_PAGE_READY_INJECTED);

        for (WorkItem w : works) {
            rig.memory.makeResident(w.gfn());
            rig.vcpu.onWorkDone(w, rig.vcpu.nowNanos());
        }
        rig.stepUntil("the first page-ready handled", () -> rig.vcpu.sleepingTasks() == 2
                && rig.vcpu.host().area().token() == 0 && rig.routine() != Routine.PAGE_READY_IRQ);
        // The ACK ran the completion check with the slot still full: nothing sent, nothing pending.
        assertFalse(rig.vcpu.host().pageReadyPending());
        assertEquals(2, rig.vcpu.host().queued(), "two completions left on the done list");

        // Nothing else triggers the host: the queue stays stalled (ticks and exits do not help).
        long until = rig.vcpu.nowNanos() + 20 * rig.settings.guest().tickPeriodNanos();
        rig.vcpu.run(until, Integer.MAX_VALUE);
        assertEquals(1, rig.count(Counter.APF_PAGE_READY_INJECTED) - injectedBase, "only the first page-ready was sent");
        assertEquals(2, rig.vcpu.sleepingTasks(), "two tasks stay asleep on completed work");
        assertEquals(2, rig.vcpu.host().queued());
    }
}
