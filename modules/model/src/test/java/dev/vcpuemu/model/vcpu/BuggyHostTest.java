package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.Panics;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host.bugs.ignore-interrupt-flag switch (reference §4(ii)): a host that injects with IF=0,
 * and the SELF_DEADLOCK finding its counterfactual 2 leads to.
 */
class BuggyHostTest {
    private static final Settings.HostBugs IGNORES_IF = new Settings.HostBugs(true, false, false, false);

    @Test
    void aFaultWithInterruptsOffIsNoLongerSynchronous() {
        // §2.0 step 3 broken: IF=0 no longer forces the synchronous path. On the interrupt pair
        // the kernel fault is still not deliverable (user-only, CPL0), so it becomes a synthetic halt.
        Rig rig = new Rig(TestSettings.interrupt().hostBugs(IGNORES_IF).tasks(1).kernelPages(1)
                .syscalls(1.0, 1, 0, 1.0).tick(1_000_000_000L).build(), 31);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.kernelGfn(0));
        rig.stepUntil("the host's decision on the IRQ-off kernel fault",
                () -> rig.count(Counter.SYNTHETIC_HALTS) + rig.count(Counter.SYNCHRONOUS_FAULTS) > 0);
        assertEquals(0, rig.count(Counter.SYNCHRONOUS_FAULTS));
        assertEquals(1, rig.count(Counter.SYNTHETIC_HALTS));
        assertTrue(!rig.vcpu.cpu().interruptFlag(), "the guest had IF=0 at the fault");
    }

    @Test
    void theLegacyEnablesWakeAllArrivesBeforeTheGuestMarksApfOnAndOopses() {
        // Linux enables APF with IRQs off (kvm_cpu_online) and sets apf_reason.enabled after the
        // WRMSR; a host that ignores IF injects the enable's wake-all in between: the guest reads
        // no reason, takes a genuine kernel fault at CR2 = 0xffffffff and oopses.
        Rig rig = new Rig(TestSettings.legacy().hostBugs(IGNORES_IF).tasks(1).build(), 7);
        rig.allResident();
        runUntilDead(rig, 1_000);
        assertTrue(rig.vcpu.dead(), "the guest died at boot");
        assertEquals(List.of(FindingKind.GUEST_PANIC), rig.findings.stream().map(Finding::kind).distinct().toList());
        assertTrue(rig.findings.get(0).detail().contains("0xffffffff"), rig.findings.get(0).detail());
    }

    @Test
    void aWakeSpinningOnALockItsOwnCpuHoldsIsASelfDeadlock() {
        // Counterfactual 2, last step: the nested wake(t2) spins on bucket b, which the same CPU
        // holds lower on its stack. Stand-in for the outer wake: the test takes the lock for vCPU 0.
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(4).mappedPages(4).build(), 7);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem w = rig.lastStarted();
        int bucket = SleeperTable.bucket(w.token());
        assertTrue(rig.sleepers.tryLock(bucket, 0));
        rig.complete(w);
        rig.stepUntil("the wake spins on its own CPU's lock", () -> rig.findingCount(FindingKind.SELF_DEADLOCK) == 1);
        rig.steps(1_000);
        assertEquals(1, rig.findingCount(FindingKind.SELF_DEADLOCK), "reported once, though it spins on");
        assertEquals(Routine.WAKE, rig.routine());
        assertTrue(rig.findingsOf(FindingKind.SELF_DEADLOCK).get(0).detail().contains("§4(ii)"));
    }

    @Test
    void withoutTheSlotCheckThreeCompletionsOverwriteTheSlotAndCoalesceInIrr() {
        // §4(iv) "Without the check", INT era: T := t1, IRQ; T := t2 (overwritten), IRQ coalesced; ...
        Rig rig = new Rig(TestSettings.interrupt().hostBugs(new Settings.HostBugs(false, true, false, false)).tasks(3).workingSet(1)
                .mappedPages(1).build(), 23);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("three tasks asleep on three tokens", () -> rig.vcpu.sleepingTasks() == 3);
        List<WorkItem> works = List.copyOf(rig.started);
        for (WorkItem w : works) {
            rig.memory.makeResident(w.gfn());
            rig.vcpu.onWorkDone(w, rig.vcpu.nowNanos());
        }
        rig.stepUntil("one page-ready handled", () -> rig.vcpu.sleepingTasks() < 3
                && rig.routine() != Routine.PAGE_READY_IRQ && rig.routine() != Routine.WAKE);
        rig.vcpu.run(rig.vcpu.nowNanos() + 5 * rig.settings.guest().tickPeriodNanos(), Integer.MAX_VALUE);

        assertEquals(2, rig.findingCount(FindingKind.PAGE_READY_OVERWRITTEN), rig.findings.toString());
        assertEquals(2, rig.findingCount(FindingKind.IRR_COALESCED_LOSS), rig.findings.toString());
        assertEquals(2, rig.vcpu.sleepingTasks(), "only the last token's waiter was woken; two wait forever");
        assertEquals(0, rig.vcpu.host().queued(), "everything was dequeued: nothing left to send");
        assertTrue(rig.findingsOf(FindingKind.PAGE_READY_OVERWRITTEN).get(0).detail().contains("over 0x1000"),
                rig.findingsOf(FindingKind.PAGE_READY_OVERWRITTEN).get(0).detail());
    }

    /** One kernel access to an evicted page, in a preempt-off ({@code irqOff} false) or IRQ-off system call; run until the guest dies. */
    private static Rig kernelFault(Settings.HostBugs bugs, boolean irqOff, long seed) {
        Rig rig = new Rig(TestSettings.interrupt().hostBugs(bugs).tasks(1).kernelPages(1)
                .syscalls(1.0, 1, irqOff ? 0 : 1.0, irqOff ? 1.0 : 0).tick(1_000_000_000L).build(), seed);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.kernelGfn(0));
        runUntilDead(rig, 100_000);
        return rig;
    }

    private static void runUntilDead(Rig rig, int maxSteps) {
        for (int i = 0; i < maxSteps && !rig.vcpu.dead(); i++) {
            rig.vcpu.run(Long.MAX_VALUE, 1);
        }
    }

    @Test
    void behaviour17_aKernelFaultInjectedDespiteUserOnlyPanicsTheGuest() {
        // reference §5 behaviour 17, §4(vi) "≥5.8": "Host injected async #PF in kernel mode"
        Rig rig = kernelFault(new Settings.HostBugs(false, false, true, false), false, 51);
        assertTrue(rig.vcpu.dead());
        assertEquals(1, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "injected at CPL0");
        assertEquals(Panics.KERNEL_MODE, rig.findingsOf(FindingKind.GUEST_PANIC).get(0).detail());
    }

    @Test
    void behaviour17_withInterruptsAlsoIgnoredTheIrqOffKernelFaultPanicsOnIf() {
        // "Forced IF=0 gives a panic '…interrupt disabled region'": the IF check comes first.
        Rig rig = kernelFault(new Settings.HostBugs(true, false, true, false), true, 31);
        assertTrue(rig.vcpu.dead());
        assertEquals(Panics.IF_OFF, rig.findingsOf(FindingKind.GUEST_PANIC).get(0).detail());
    }
}
