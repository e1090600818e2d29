package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.guest.program.NmiHandler;
import dev.vcpuemu.model.guest.program.ReschedIrq;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.Syscall;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.HostApf;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host's decision at a fault on a non-resident frame, driven through the vCPU (reference §2.0). */
class HostDecisionTest {

    private static TestSettings matching(HostEra era) {
        return TestSettings.matching(era);
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour03_faultWithIfZeroIsSynchronous(HostEra era) {
        // reference §5 behaviour 3, §2.0 step 3
        long swapIn = 300_000;
        Rig rig = new Rig(matching(era).tasks(1).kernelPages(1).syscalls(1.0, 1, 0, 1.0).swapIn(swapIn)
                .tick(1_000_000_000L).build(), 31);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.kernelGfn(0));
        rig.stepUntil("a fault in the IRQ-disabled section", () -> rig.count(Counter.SYNCHRONOUS_FAULTS) == 1);
        assertTrue(rig.vcpu.stalled(), "the vCPU is blocked in the host fault path");
        assertTrue(rig.at(Routine.SYSCALL, Syscall.ACCESS), "stopped at the faulting kernel access");
        assertFalse(rig.vcpu.cpu().interruptFlag(), "IF=0 at the fault");
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "no #PF injected");
        assertEquals(0, rig.count(Counter.TOKENS_ISSUED), "no token");
        assertTrue(rig.started.isEmpty(), "no async work item");
        assertEquals(0, rig.count(Counter.SYNTHETIC_HALTS));

        // Nothing is delivered while the host thread is blocked: not an NMI, not an interrupt.
        long faultAt = rig.vcpu.nowNanos();
        long ops = rig.count(Counter.MICRO_OPS);
        rig.vcpu.onNmi(faultAt, 0.0);
        rig.vcpu.onRemoteWake(-1, rig.vcpu.nowNanos());
        assertEquals(0, rig.vcpu.run(faultAt + swapIn / 2, Integer.MAX_VALUE), "no boundary while blocked");
        assertTrue(rig.vcpu.stalled());
        assertEquals(0, rig.count(Counter.NMIS_DELIVERED));
        assertEquals(ops, rig.count(Counter.MICRO_OPS));

        rig.step();
        assertFalse(rig.vcpu.stalled());
        assertTrue(rig.vcpu.nowNanos() >= faultAt + swapIn, "blocked for the whole page-in");
        assertTrue(rig.memory.resident(rig.kernelGfn(0)));
        assertEquals(1, rig.count(Counter.NMIS_DELIVERED), "the NMI is taken only once the page is in");
        rig.stepUntil("the faulting access retried and retired", () -> rig.at(Routine.SYSCALL, Syscall.ENABLE));
        assertEquals(1, rig.count(Counter.SYNCHRONOUS_FAULTS), "retried without a second host fault");
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(List.of(), rig.findings);
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour04_aFaultWhileDeliveringAnEventIsSynchronousAndTheEventIsInjectedAgain(HostEra era) {
        // reference §5 behaviour 4, §2.0 step 2: kvm_can_do_async_pf is false while an event needs
        // re-injection. Here the IPI's frame goes on the task's kernel stack, which the host swapped
        // out: an EPT violation during delivery, with IF=1 in user mode otherwise fit for an APF.
        long swapIn = 300_000;
        Rig rig = new Rig(matching(era).tasks(1).workingSet(8).mappedPages(8).swapIn(swapIn)
                .tick(1_000_000_000L).build(), 41);
        rig.allResident();
        rig.settleWakeAll();
        rig.stepUntil("user code", () -> rig.at(Routine.USER, UserLoop.PICK));
        int stack = rig.stackGfn(rig.vcpu.currentTask());
        rig.memory.evict(stack);
        rig.vcpu.onRemoteWake(-1, rig.vcpu.nowNanos());
        rig.stepUntil("the IPI's delivery faults on the kernel stack", () -> rig.count(Counter.SYNCHRONOUS_FAULTS) == 1);
        assertTrue(rig.vcpu.stalled(), "the vCPU is blocked in the host fault path");
        assertTrue(rig.vcpu.cpu().interruptFlag());
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "no #PF injected");
        assertEquals(0, rig.count(Counter.TOKENS_ISSUED));
        assertTrue(rig.started.isEmpty(), "no async work item");
        assertTrue(rig.vcpu.cpu().irrPending(Vector.RESCHEDULE), "the interrupt is still to deliver");
        long faultAt = rig.vcpu.nowNanos();
        rig.stepUntil("the IPI delivered", () -> rig.at(Routine.RESCHED_IRQ, ReschedIrq.RESCHED));
        assertTrue(rig.vcpu.nowNanos() >= faultAt + swapIn, "after the whole page-in");
        assertTrue(rig.memory.resident(stack));
        assertEquals(1, rig.count(Counter.SYNCHRONOUS_FAULTS), "delivered without a second host fault");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour04_anNmiWhoseIstStackIsOutWaitsForItsPageIn() {
        // reference §1.8 (x86-64 NMIs switch to an IST stack), §5 behaviour 4
        long swapIn = 300_000;
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).swapIn(swapIn).tick(1_000_000_000L).build(), 42);
        rig.allResident();
        rig.settleWakeAll();
        rig.stepUntil("user code", () -> rig.at(Routine.USER, UserLoop.PICK));
        rig.memory.evict(rig.stackGfn(-1));
        long at = rig.vcpu.nowNanos();
        rig.vcpu.onNmi(at, 0.0);
        rig.step();
        assertEquals(1, rig.count(Counter.SYNCHRONOUS_FAULTS));
        assertEquals(0, rig.count(Counter.NMIS_DELIVERED));
        rig.stepUntil("the NMI delivered", () -> rig.at(Routine.NMI, NmiHandler.ENTRY));
        assertTrue(rig.vcpu.nowNanos() >= at + swapIn);
        assertEquals(1, rig.count(Counter.SYNCHRONOUS_FAULTS));
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
    }

    @Test
    void behaviour05_duplicateGfnHaltsWithoutNewTokenAndResumesOnInterrupt() {
        // reference §5 behaviour 5, §2.0 steps 4 and 7
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).kernelPages(1).syscalls(1.0, 1, 1.0, 0).build(), 51);
        rig.allResident();
        rig.settleWakeAll();
        int k = rig.kernelGfn(0);
        rig.memory.evict(k);
        // A kernel access with preemption off: CPL0, so the 5.8+ host cannot deliver; synthetic halt.
        rig.stepUntil("first fault on the kernel frame", () -> rig.count(Counter.SYNTHETIC_HALTS) == 1);
        assertTrue(rig.vcpu.host().halted());
        assertTrue(rig.vcpu.host().outstanding(k));
        assertEquals(1, rig.count(Counter.TOKENS_ISSUED));
        assertEquals(List.of(k), rig.started.stream().map(WorkItem::gfn).toList());

        // Blocked until the next tick raises a deliverable interrupt; the retry then faults on
        // the same gfn again: the "double fault" halt, no new token, no new work, no #PF.
        boolean[] timerRan = {false};
        rig.observe(() -> timerRan[0] |= rig.routine() == Routine.TIMER_IRQ);
        long before = rig.vcpu.nowNanos();
        rig.stepUntil("second fault on the same gfn", () -> rig.count(Counter.SYNTHETIC_HALTS) == 2);
        assertTrue(timerRan[0], "resumed by the timer interrupt, which ran before the retry");
        assertTrue(rig.vcpu.nowNanos() >= rig.settings.guest().tickPeriodNanos() * (before / rig.settings.guest().tickPeriodNanos() + 1),
                "nothing ran before the tick");
        assertTrue(rig.vcpu.host().halted());
        assertEquals(1, rig.count(Counter.TOKENS_ISSUED), "no new token");
        assertEquals(1, rig.started.size(), "no new work item");
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(0, rig.count(Counter.SYNCHRONOUS_FAULTS));

        rig.complete(rig.started.get(0));
        rig.stepUntil("the access retired after the completion", () -> rig.at(Routine.SYSCALL, Syscall.ENABLE));
        assertFalse(rig.vcpu.host().halted());
        assertFalse(rig.vcpu.host().outstanding(k));
        assertEquals(2, rig.count(Counter.SYNTHETIC_HALTS));
        assertEquals(1, rig.count(Counter.PAGE_READY_SUPPRESSED), "no page-ready for a not-present never injected");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour05_duplicateGfnHaltEndsOnAnyCompletion() {
        // reference §5 behaviour 5, §2.0 step 7 (a non-empty done list wakes the halted vCPU)
        Rig rig = new Rig(TestSettings.interrupt().preempt(true).tasks(2).workingSet(1).mappedPages(1)
                .syscalls(1.0, 1, 0, 0).build(), 52);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0).evictUser(1);
        // Both tasks fault at CPL0 (preemptible system calls on their user page): two work items.
        rig.stepUntil("two outstanding gfns", () -> rig.started.size() == 2);
        rig.stepUntil("task 0 halted again on its own gfn",
                () -> rig.vcpu.host().halted() && rig.vcpu.currentTask() == 0 && rig.count(Counter.SYNTHETIC_HALTS) >= 3);
        WorkItem mine = rig.started.stream().filter(w -> w.gfn() == rig.userGfn(0, 0)).findFirst().orElseThrow();
        WorkItem other = rig.started.stream().filter(w -> w.gfn() == rig.userGfn(1, 0)).findFirst().orElseThrow();
        long halts = rig.count(Counter.SYNTHETIC_HALTS);
        long ops = rig.count(Counter.MICRO_OPS);

        // The other task's page completes: the halt ends although task 0's page is still out.
        boolean[] interrupted = {false};
        rig.observe(() -> interrupted[0] |= rig.routine().name().endsWith("_IRQ"));
        long doneAt = rig.vcpu.nowNanos();
        rig.complete(other);
        rig.stepUntil("task 0 resumed and halted again on its still-missing gfn",
                () -> rig.count(Counter.SYNTHETIC_HALTS) == halts + 1);
        assertTrue(rig.count(Counter.MICRO_OPS) > ops, "the vCPU ran again");
        assertFalse(interrupted[0], "no interrupt was involved: the completion alone ended the halt");
        assertTrue(rig.vcpu.nowNanos() - doneAt < 100 * rig.settings.engine().opCostNanos(), "resumed at once");
        assertEquals(0, rig.count(Counter.APF_PAGE_READY_INJECTED) - 1, "no page-ready (only the wake-all)");
        assertEquals(2, rig.count(Counter.TOKENS_ISSUED), "still no new token");
        assertTrue(rig.vcpu.host().outstanding(mine.gfn()));
        assertFalse(rig.vcpu.host().outstanding(other.gfn()));

        rig.complete(mine);
        rig.stepUntil("task 0's access retired", () -> rig.vcpu.currentTask() == 0 && rig.at(Routine.SYSCALL, Syscall.ENABLE));
        assertEquals(2, rig.count(Counter.TOKENS_ISSUED));
        assertEquals(List.of(), rig.findings);
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour06_queueLimit64ThenSynchronous(HostEra era) {
        // reference §5 behaviour 6, §2.0 step 5, §2.7 "Limit"
        int tasks = HostApf.ASYNC_PF_PER_VCPU + 1;
        Rig rig = new Rig(matching(era).tasks(tasks).workingSet(1).mappedPages(1).swapIn(500_000)
                .hungTaskTimeout(Long.MAX_VALUE / 4).build(), 61);
        rig.allResident();
        rig.settleWakeAll();
        for (int t = 0; t < tasks; t++) {
            rig.evictUser(t);
        }
        rig.stepUntil("64 tasks asleep on 64 not-presents", () -> rig.vcpu.sleepingTasks() == HostApf.ASYNC_PF_PER_VCPU);
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.vcpu.host().queued());
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(0, rig.count(Counter.SYNCHRONOUS_FAULTS));

        rig.stepUntil("the 65th fault", () -> rig.count(Counter.SYNCHRONOUS_FAULTS) == 1);
        assertTrue(rig.vcpu.stalled(), "handled synchronously: the vCPU is blocked in the host");
        assertTrue(rig.at(Routine.USER, UserLoop.ACCESS), "at the faulting user access");
        assertTrue(rig.vcpu.cpu().interruptAllowed(), "IF=1: only the limit made it synchronous");
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "no #PF injected");
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.count(Counter.TOKENS_ISSUED), "no token");
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.started.size(), "no work item");
        assertFalse(rig.vcpu.host().outstanding(rig.userGfn(rig.vcpu.currentTask(), 0)));

        int task = rig.vcpu.currentTask();
        rig.stepUntil("the 65th access retired", () -> rig.vcpu.currentTask() == task && rig.routine() == Routine.USER
                && rig.pc() != 1);
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(HostApf.ASYNC_PF_PER_VCPU, rig.vcpu.host().queued());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour07_tokenFormatOnVcpu3() {
        // reference §5 behaviour 7, §1.2 "token", §2.7
        Rig rig = new Rig(TestSettings.interrupt().vcpus(4).tasks(3).workingSet(1).mappedPages(1).build(), 71, 3);
        rig.allResident();
        rig.settleWakeAll();
        for (int t = 0; t < 3; t++) {
            rig.evictUser(t);
        }
        List<Long> cr2s = new java.util.ArrayList<>();
        rig.observe(() -> {
            if (rig.atEntry(Routine.PF_INTERRUPT) && rig.vcpu.host().area().word() == 1) {
                cr2s.add(rig.vcpu.cpu().cr2());
            }
        });
        rig.stepUntil("three not-presents", () -> rig.vcpu.sleepingTasks() == 3);
        assertEquals(List.of(0x1003, 0x2003, 0x3003), rig.started.stream().map(WorkItem::token).toList());
        assertEquals(List.of(0x1003L, 0x2003L, 0x3003L), cr2s, "CR2 carries the token");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour15_interruptHostSendsNoPageReadyForANotPresentNeverInjected() {
        // reference §5 behaviour 15 (HI): a CPL0 fault of a user-only guest is a synthetic halt;
        // its completion only ends the halt: no page-ready IRQ, no #PF (hazard viii fixed).
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).kernelPages(1).syscalls(1.0, 1, 1.0, 0)
                .tick(1_000_000_000L).build(), 51);
        rig.allResident();
        rig.settleWakeAll();
        long pageReadies = rig.count(Counter.APF_PAGE_READY_INJECTED);
        rig.memory.evict(rig.kernelGfn(0));
        rig.stepUntil("synthetic halt on the kernel fault", () -> rig.vcpu.host().halted());
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "user-only: nothing injected at CPL0");
        boolean[] delivered = {false};
        rig.observe(() -> delivered[0] |= rig.routine() == Routine.PAGE_READY_IRQ
                || rig.routine() == Routine.PF_INTERRUPT);
        rig.complete(rig.lastStarted());
        rig.stepUntil("the access retired after the completion", () -> rig.at(Routine.SYSCALL, Syscall.ENABLE));
        assertFalse(rig.vcpu.host().halted(), "halted := false");
        assertEquals(pageReadies, rig.count(Counter.APF_PAGE_READY_INJECTED), "no page-ready");
        assertEquals(1, rig.count(Counter.PAGE_READY_SUPPRESSED));
        assertFalse(delivered[0], "neither an IRQ nor a #PF reached the guest");
        assertEquals(List.of(), rig.findings);
    }
}
