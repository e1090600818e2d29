package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.kernel.IdleLoop;
import dev.vcpuemu.model.guest.program.Layout;
import dev.vcpuemu.model.guest.program.NmiHandler;
import dev.vcpuemu.model.guest.program.ReschedIrq;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.TimerIrq;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.truth.Delivery;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The x86 delivery rules the vCPU applies at micro-op boundaries (reference §1.8, §4(vii)). */
class X86MechanicsTest {

    @Test
    void preciseFaultRetriesTheFaultingMicroOp() {
        // reference §1.8 (#PF is a fault: saved RIP = the faulting instruction, CR2 = its address)
        Rig rig = new Rig(TestSettings.legacy().tasks(1).workingSet(8).mappedPages(2).build(), 81);
        rig.allResident();
        rig.settleWakeAll();
        long faults = rig.count(Counter.GENUINE_PAGE_FAULTS);
        rig.stepUntil("a user access raises a genuine #PF", () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > faults);
        assertTrue(rig.at(Routine.USER, UserLoop.ACCESS), "the faulting access did not retire");
        assertTrue(rig.vcpu.cpu().exceptionPending());
        rig.step();
        assertTrue(rig.atEntry(Routine.PF_LEGACY), "the exception is delivered at the next boundary");
        long address = rig.vcpu.cpu().cr2();
        assertTrue(address >= Layout.USER_BASE && address < Rig.userAddress(8) && address % Layout.PAGE == 0,
                "CR2 = the faulting user address, 0x" + Long.toHexString(address));
        assertFalse(rig.vcpu.cpu().interruptFlag(), "IF cleared by the gate");
        rig.stepUntil("IRET back to the user access", () -> rig.routine() == Routine.USER);
        assertEquals(1, rig.pc(), "resumes at the same micro-op");
        assertTrue(rig.vcpu.cpu().interruptFlag(), "IF restored by IRET");
        assertEquals(address, rig.vcpu.cpu().cr2());
        rig.step();
        assertNotEquals(1, rig.pc(), "the retried access retired");
        assertEquals(faults + 1, rig.count(Counter.GENUINE_PAGE_FAULTS), "it did not fault again");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void irrCoalescesPerVector() {
        // reference §1.8 (one IRR bit per vector: two requests before delivery give one delivery)
        Rig rig = new Rig(TestSettings.legacy().tasks(1).tick(1_000_000_000L).build(), 82);
        rig.allResident();
        List<Routine> delivered = new ArrayList<>();
        rig.observe(() -> {
            if ((rig.at(Routine.RESCHED_IRQ, ReschedIrq.RESCHED) || rig.at(Routine.TIMER_IRQ, TimerIrq.TICK))) {
                delivered.add(rig.routine());
            }
        });
        // Booting with IF=0: two reschedule IPIs and one timer request wait in IRR.
        assertFalse(rig.vcpu.cpu().interruptFlag());
        rig.vcpu.onRemoteWake(-1, rig.vcpu.nowNanos());
        rig.vcpu.onRemoteWake(-1, rig.vcpu.nowNanos());
        rig.vcpu.cpu().raiseIrq(Vector.TIMER);
        assertTrue(rig.vcpu.cpu().irrPending(Vector.RESCHEDULE) && rig.vcpu.cpu().irrPending(Vector.TIMER));
        rig.stepUntil("both IRR bits delivered and handled", () -> !rig.vcpu.cpu().irrPending(Vector.RESCHEDULE)
                && !rig.vcpu.cpu().irrPending(Vector.TIMER) && rig.routine() == Routine.USER);
        assertEquals(List.of(Routine.RESCHED_IRQ, Routine.TIMER_IRQ), delivered,
                "one delivery per vector, highest vector first; the two IPIs coalesced");
        rig.steps(2000);
        assertEquals(2, delivered.size(), "no further delivery of the coalesced request");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void stiShadowKeepsTheInterruptOutUntilAfterHlt() {
        // reference §1.8 (STI; HLT: nothing is injected between the STI and the HLT), §4(vi) step 3
        Rig rig = new Rig(TestSettings.legacy().tasks(0).tick(1_000_000_000L).build(), 83);
        rig.settleWakeAll();
        rig.stepUntil("the idle loop about to STI", () -> rig.at(Routine.IDLE, IdleLoop.STI) && !rig.vcpu.cpu().interruptFlag());
        rig.vcpu.onRemoteWake(-1, rig.vcpu.nowNanos());
        rig.step();
        assertTrue(rig.at(Routine.IDLE, IdleLoop.HLT), "STI executed, HLT next: the IPI was held by IF=0");
        assertTrue(rig.vcpu.cpu().interruptFlag());
        assertFalse(rig.vcpu.cpu().interruptAllowed(), "interrupt_allowed() is false in the STI shadow");
        assertTrue(rig.vcpu.cpu().irrPending(Vector.RESCHEDULE));
        rig.step();
        assertTrue(rig.at(Routine.IDLE, IdleLoop.CLI) && rig.vcpu.cpu().halted(), "HLT executed in the shadow, not the interrupt");
        assertTrue(rig.vcpu.cpu().interruptAllowed());
        rig.step();
        assertTrue(rig.at(Routine.RESCHED_IRQ, ReschedIrq.RESCHED), "the interrupt wakes the HLT at the next boundary");
        assertFalse(rig.vcpu.cpu().halted());
        assertFalse(rig.vcpu.cpu().irrPending(Vector.RESCHEDULE));
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void nmiIsHeldInTheStiShadow() {
        // reference §1.8; KVM's vmx_nmi_blocked: no NMI is injected in the STI/MOV-SS shadow
        Rig rig = new Rig(TestSettings.legacy().tasks(0).tick(1_000_000_000L).build(), 83);
        rig.settleWakeAll();
        rig.stepUntil("the idle loop about to STI", () -> rig.at(Routine.IDLE, IdleLoop.STI) && !rig.vcpu.cpu().interruptFlag());
        rig.step();
        assertTrue(rig.at(Routine.IDLE, IdleLoop.HLT) && rig.vcpu.cpu().stiShadow(), "STI executed: HLT next, in its shadow");
        rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
        rig.step();
        assertTrue(rig.at(Routine.IDLE, IdleLoop.CLI) && rig.vcpu.cpu().halted(), "HLT executed in the shadow, not the NMI");
        assertEquals(0, rig.count(Counter.NMIS_DELIVERED));
        rig.step();
        assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "the NMI wakes the HLT at the next boundary");
        assertFalse(rig.vcpu.cpu().halted());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void twoNmisBeforeDeliveryAreBothTakenAndAThirdIsLost() {
        // reference §1.8 (edge-triggered, latched); KVM's process_nmi: two pending while none is in
        // progress (one to inject, one latched), one while blocked; the rest are dropped.
        Rig rig = new Rig(TestSettings.legacy().tasks(1).tick(1_000_000_000L).build(), 86);
        rig.allResident();
        rig.settleWakeAll();
        rig.stepUntil("user code", () -> rig.at(Routine.USER, UserLoop.PICK));
        for (int i = 0; i < 3; i++) {
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
        }
        rig.step();
        assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY));
        assertEquals(1, rig.vcpu.cpu().nmisPending(), "one latched behind the one delivered");
        assertEquals(1, rig.count(Counter.NMIS_LOST), "the third found the latch full");
        rig.stepUntil("both NMI handlers done", () -> rig.count(Counter.NMIS_DELIVERED) == 2
                && !rig.vcpu.cpu().nmiBlocked() && rig.routine() != Routine.NMI);
        assertEquals(0, rig.vcpu.cpu().nmisPending());
        rig.steps(2000);
        assertEquals(2, rig.count(Counter.NMIS_DELIVERED), "two deliveries for three NMIs, not one");
        assertEquals(1, rig.count(Counter.NMIS_LOST));
        assertEquals(List.of(), rig.findings, "sequential NMIs, none nested");
    }

    @Test
    void secondExceptionWhilePendingIsDoubleFault() {
        // reference §4(iv) (a #PF during #PF delivery becomes #DF), §1.8; the host here ignores exception.pending
        Rig rig = new Rig(TestSettings.legacy().tasks(2).build(), 84);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("a not-present #PF raised, not yet delivered",
                () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && rig.vcpu.cpu().exceptionPending());
        int t2 = 0x7000;
        rig.vcpu.cpu().raisePageFault(t2, new Delivery(Delivery.Kind.PAGE_READY, t2, t2, rig.vcpu.nowNanos()));
        assertEquals(1, rig.findingCount(FindingKind.DOUBLE_FAULT), "findings " + rig.findings);
        Finding df = rig.findingsOf(FindingKind.DOUBLE_FAULT).get(0);
        assertTrue(df.detail().contains("PAGE_READY token 0x7000") && df.detail().contains("NOT_PRESENT token 0x1000"),
                df.detail());
        assertFalse(rig.vcpu.dead(), "a #DF is pending, not yet delivered");
        rig.step();
        assertTrue(rig.vcpu.dead(), "the #DF handler panics");
        assertEquals(1, rig.findingCount(FindingKind.GUEST_PANIC));
        assertEquals(0, rig.findingCount(FindingKind.TRIPLE_FAULT));
        assertTrue(rig.vcpu.deathReason().contains("double fault"));
    }

    @Test
    void thirdExceptionWhileDoubleFaultPendingIsTripleFault() {
        // reference §1.8; DESIGN §1.2 (a fault during a double fault is a triple fault: the guest is dead)
        Rig rig = new Rig(TestSettings.legacy().tasks(2).build(), 85);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("a not-present #PF raised, not yet delivered",
                () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && rig.vcpu.cpu().exceptionPending());
        rig.vcpu.cpu().raisePageFault(0x7000, new Delivery(Delivery.Kind.PAGE_READY, 0x7000, 0x7000, rig.vcpu.nowNanos()));
        rig.vcpu.cpu().raisePageFault(0x8000, new Delivery(Delivery.Kind.PAGE_READY, 0x8000, 0x8000, rig.vcpu.nowNanos()));
        assertEquals(1, rig.findingCount(FindingKind.DOUBLE_FAULT));
        assertEquals(1, rig.findingCount(FindingKind.TRIPLE_FAULT));
        assertTrue(rig.vcpu.dead());
        assertEquals("triple fault", rig.vcpu.deathReason());
    }

    @Test
    void nmiBlockedUntilAnyIretWithOneLatched() {
        // reference §1.8 (NMI blocked until the next IRET, whatever it returns from; one more latched), §4(vii)
        for (long seed = 1; seed <= 20; seed++) {
            Rig rig = new Rig(TestSettings.legacy().tasks(1).workingSet(16).mappedPages(1).tick(1_000_000_000L).build(), seed);
            rig.allResident();
            rig.settleWakeAll();
            rig.stepUntil("user code", () -> rig.at(Routine.USER, UserLoop.PICK));
            long cr2Before = rig.vcpu.cpu().cr2();
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY) && rig.vcpu.cpu().nmiBlocked());
            // Two more NMIs while blocked: one is latched.
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler's user read faults, or the NMI ends", 10_000,
                    () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine || !rig.vcpu.cpu().nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue; // the read hit the one mapped page: try another seed
            }
            assertEquals(1, rig.count(Counter.NMIS_DELIVERED), "the latched NMI waits while blocked");
            rig.step();
            assertTrue(rig.atEntry(Routine.PF_LEGACY), "the #PF (an exception) is delivered despite NMI blocking");
            long b = rig.vcpu.cpu().cr2();
            assertNotEquals(cr2Before, b);
            rig.stepUntil("the nested #PF's IRET", () -> !rig.vcpu.cpu().nmiBlocked());
            assertEquals(Routine.NMI, rig.routine(), "still inside the first NMI handler");
            assertEquals(1, rig.count(Counter.NMIS_DELIVERED));
            rig.step();
            assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "the latched NMI is delivered right after that IRET, nested");
            assertEquals(2, rig.count(Counter.NMIS_DELIVERED));
            rig.stepUntil("every NMI handler done", () -> !rig.vcpu.cpu().nmiBlocked() && rig.routine() != Routine.NMI);
            assertEquals(2, rig.count(Counter.NMIS_DELIVERED), "two NMIs sent while blocked gave one delivery");
            assertEquals(1, rig.count(Counter.NMIS_LOST), "the other was lost, and counted");
            assertEquals(cr2Before, rig.vcpu.cpu().cr2(), "CR2 restored at NMI exit (reference §4(i) mitigations)");
            assertEquals(List.of(FindingKind.NESTED_NMI), rig.findings.stream().map(Finding::kind).toList(),
                    "the nested delivery is the one finding (§4(vii))");
            return;
        }
        fail("no seed made the NMI handler's user read take a genuine #PF");
    }

    @Test
    void behaviour28_nestedNmiViaIretRunsOnceAfterTheFirst() {
        // reference §5 behaviour 28, §4(vii) "C": nmi_state EXECUTING -> LATCHED, one re-run
        for (long seed = 1; seed <= 20; seed++) {
            Rig rig = new Rig(TestSettings.legacy().tasks(1).workingSet(16).mappedPages(1).tick(1_000_000_000L).build(), seed);
            rig.allResident();
            rig.settleWakeAll();
            rig.stepUntil("user code", () -> rig.at(Routine.USER, UserLoop.PICK));
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler's user read faults, or the NMI ends", 10_000,
                    () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine || !rig.vcpu.cpu().nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue;
            }
            // Watch the NMI frames: body runs of the first handler (pc 1 entered from pc 0 or 3), and
            // that a nested NMI frame never runs the body (pc 0 -> 4).
            int[] bodyRuns = {1};
            String[] prev = {rig.routine() + ":" + rig.pc()};
            rig.observe(() -> {
                String now = rig.routine() + ":" + rig.pc();
                if (now.equals("NMI:" + NmiHandler.PERF) && (prev[0].equals("NMI:" + NmiHandler.EXIT) || prev[0].equals("NMI:" + NmiHandler.ENTRY))) {
                    bodyRuns[0]++;
                }
                if (prev[0].equals("NMI:" + NmiHandler.ENTRY) && rig.count(Counter.NMIS_DELIVERED) > 1 && !now.equals("NMI:" + NmiHandler.IRET)
                        && !now.equals("NMI:1")) {
                    fail("a nested NMI frame went from pc 0 to " + now);
                }
                prev[0] = now;
            });
            rig.stepUntil("the nested #PF's IRET", () -> !rig.vcpu.cpu().nmiBlocked());
            assertEquals(Routine.NMI, rig.routine());
            // Three NMIs while the first handler is still running: the first right after the IRET.
            for (int i = 0; i < 3; i++) {
                rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
                rig.step();
                if (i == 0) {
                    assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "delivered nested, NMIs having been re-opened by the #PF's IRET");
                }
            }
            rig.stepUntil("every NMI handler done", () -> !rig.vcpu.cpu().nmiBlocked() && rig.routine() != Routine.NMI);
            assertTrue(rig.count(Counter.NMIS_DELIVERED) >= 3, "extra NMIs reached the CPU: " + rig.count(Counter.NMIS_DELIVERED));
            assertEquals(2, bodyRuns[0], "the handler body ran once more after the first, however many NMIs came");
            assertFalse(rig.findings.isEmpty(), "NESTED_NMI reported");
            assertTrue(rig.findings.stream().allMatch(f -> f.kind() == FindingKind.NESTED_NMI), rig.findings.toString());
            assertTrue(rig.findings.get(0).detail().contains("§4(vii)"), rig.findings.get(0).detail());
            return;
        }
        fail("no seed made the NMI handler's user read take a genuine #PF");
    }
}
