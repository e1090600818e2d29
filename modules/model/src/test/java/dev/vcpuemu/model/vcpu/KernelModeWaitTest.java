package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.Syscall;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reference §5 behaviour 16 (hazard vi): a PREEMPT legacy guest sets bit 1 (send-always), so
 * the legacy host also sends not-present for a CPL0 fault. In a non-preemptible kernel context
 * the guest cannot schedule: it hashes a halted node and waits with STI; HLT on that CPU.
 * Interrupts are serviced meanwhile, no other task runs there, and the page-ready #PF wakes it.
 */
class KernelModeWaitTest {

    @Test
    void behaviour16_nonPreemptibleKernelFaultHaltsTheCpuUntilItsPageReady() {
        Rig rig = new Rig(TestSettings.legacy().preempt(true).tasks(2).kernelPages(1).syscalls(1.0, 1, 1.0, 0)
                .build(), 51);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.kernelGfn(0));
        rig.stepUntil("not-present injected for the kernel access", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1);
        int task = rig.vcpu.currentTask();
        assertTrue(task >= 0, "a task's system call faulted, not the idle loop");
        rig.stepUntil("the guest waits halted", () -> rig.vcpu.cpu().halted());
        assertTrue(rig.vcpu.lastEvents().stream().anyMatch(e -> e.contains("wait (halt) token")), rig.vcpu.lastEvents().toString());
        assertFalse(rig.vcpu.lastEvents().stream().anyMatch(e -> e.contains("wait (sleep) token")),
                "the halt path, not schedule()");

        // While it waits: the timer interrupt runs, and no other task is scheduled on this CPU.
        Set<Integer> tasks = new HashSet<>();
        boolean[] timer = {false};
        rig.observe(() -> {
            tasks.add(rig.vcpu.currentTask());
            timer[0] |= rig.routine() == Routine.TIMER_IRQ;
        });
        long tick = rig.settings.guest().tickPeriodNanos();
        long until = (rig.vcpu.nowNanos() / tick + 2) * tick;
        rig.stepUntil("two ticks later", () -> rig.vcpu.nowNanos() >= until);
        assertTrue(timer[0], "interrupts are serviced while waiting (STI; HLT)");
        assertEquals(Set.of(task), tasks, "no other task ran on this CPU");
        assertEquals(0, rig.count(Counter.APF_PAGE_READY_INJECTED) - 1, "only the enable's wake-all so far");

        // Steps 5-7: the page-ready #PF wakes it; wake(t) finds the halted node and sends the
        // reschedule IPI to this very CPU, taken once the #PF's IRET sets IF again (harmless: the
        // task holds its lock and runs on); the kernel access retires.
        List<Routine> entered = new ArrayList<>();
        rig.observe(() -> {
            Routine r = rig.routine();
            if (rig.pc() == 0 && r != null && (entered.isEmpty() || entered.get(entered.size() - 1) != r)) {
                entered.add(r);
            }
        });
        rig.complete(rig.lastStarted());
        rig.stepUntil("the access retired after the page-ready", () -> rig.at(Routine.SYSCALL, Syscall.ENABLE));
        int pageReady = entered.indexOf(Routine.PF_LEGACY);
        assertTrue(pageReady >= 0, "the page-ready #PF ran: " + entered);
        assertEquals(1, Collections.frequency(entered, Routine.RESCHED_IRQ), "one self-IPI: " + entered);
        assertTrue(entered.indexOf(Routine.RESCHED_IRQ) > pageReady, "the self-IPI follows the wake: " + entered);
        assertEquals(Set.of(task), tasks, "the self-IPI scheduled no other task in the locked context");
        assertEquals(2, rig.count(Counter.APF_PAGE_READY_INJECTED), "wake-all, then this page-ready");
        assertEquals(task, rig.vcpu.currentTask());
        assertFalse(rig.vcpu.cpu().halted());
        assertEquals(List.of(), rig.findings);
    }
}
