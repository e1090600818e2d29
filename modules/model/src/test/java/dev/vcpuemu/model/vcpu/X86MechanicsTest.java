package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.host.Delivery;
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
        assertTrue(rig.at("USER", 1), "the faulting access did not retire");
        assertTrue(rig.vcpu.exceptionPending());
        rig.step();
        assertTrue(rig.at("PF_LEGACY", 0), "the exception is delivered at the next boundary");
        long address = rig.vcpu.cr2();
        assertTrue(address >= Vcpu.USER_BASE && address < Rig.userAddress(8) && address % Vcpu.PAGE == 0,
                "CR2 = the faulting user address, 0x" + Long.toHexString(address));
        assertFalse(rig.vcpu.interruptFlag(), "IF cleared by the gate");
        rig.stepUntil("IRET back to the user access", () -> rig.vcpu.currentRoutine().equals("USER"));
        assertEquals(1, rig.vcpu.currentPc(), "resumes at the same micro-op");
        assertTrue(rig.vcpu.interruptFlag(), "IF restored by IRET");
        assertEquals(address, rig.vcpu.cr2());
        rig.step();
        assertNotEquals(1, rig.vcpu.currentPc(), "the retried access retired");
        assertEquals(faults + 1, rig.count(Counter.GENUINE_PAGE_FAULTS), "it did not fault again");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void irrCoalescesPerVector() {
        // reference §1.8 (one IRR bit per vector: two requests before delivery give one delivery)
        Rig rig = new Rig(TestSettings.legacy().tasks(1).tick(1_000_000_000L).build(), 82);
        rig.allResident();
        List<String> delivered = new ArrayList<>();
        rig.observe(() -> {
            if ((rig.at("RESCHED_IRQ", 0) || rig.at("TIMER_IRQ", 0))) {
                delivered.add(rig.vcpu.currentRoutine());
            }
        });
        // Booting with IF=0: two reschedule IPIs and one timer request wait in IRR.
        assertFalse(rig.vcpu.interruptFlag());
        rig.vcpu.onRemoteWake(-1);
        rig.vcpu.onRemoteWake(-1);
        rig.vcpu.raiseIrq(Vcpu.VECTOR_TIMER);
        assertTrue(rig.vcpu.irrPending(Vcpu.VECTOR_RESCHED) && rig.vcpu.irrPending(Vcpu.VECTOR_TIMER));
        rig.stepUntil("both IRR bits delivered and handled", () -> !rig.vcpu.irrPending(Vcpu.VECTOR_RESCHED)
                && !rig.vcpu.irrPending(Vcpu.VECTOR_TIMER) && rig.vcpu.currentRoutine().equals("USER"));
        assertEquals(List.of("RESCHED_IRQ", "TIMER_IRQ"), delivered,
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
        rig.stepUntil("the idle loop about to STI", () -> rig.at("IDLE", 2) && !rig.vcpu.interruptFlag());
        rig.vcpu.onRemoteWake(-1);
        rig.step();
        assertTrue(rig.at("IDLE", 3), "STI executed, HLT next: the IPI was held by IF=0");
        assertTrue(rig.vcpu.interruptFlag());
        assertFalse(rig.vcpu.interruptAllowed(), "interrupt_allowed() is false in the STI shadow");
        assertTrue(rig.vcpu.irrPending(Vcpu.VECTOR_RESCHED));
        rig.step();
        assertTrue(rig.at("IDLE", 0) && rig.vcpu.halted(), "HLT executed in the shadow, not the interrupt");
        assertTrue(rig.vcpu.interruptAllowed());
        rig.step();
        assertTrue(rig.at("RESCHED_IRQ", 0), "the interrupt wakes the HLT at the next boundary");
        assertFalse(rig.vcpu.halted());
        assertFalse(rig.vcpu.irrPending(Vcpu.VECTOR_RESCHED));
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void secondExceptionWhilePendingIsDoubleFault() {
        // reference §4(iv) (a #PF during #PF delivery becomes #DF), §1.8; the host here ignores exception.pending
        Rig rig = new Rig(TestSettings.legacy().tasks(2).build(), 84);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("a not-present #PF raised, not yet delivered",
                () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && rig.vcpu.exceptionPending());
        int t2 = 0x7000;
        rig.vcpu.injectPageFault(t2, new Delivery(Delivery.Kind.PAGE_READY, t2, t2, rig.vcpu.nowNanos()));
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
                () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1 && rig.vcpu.exceptionPending());
        rig.vcpu.injectPageFault(0x7000, new Delivery(Delivery.Kind.PAGE_READY, 0x7000, 0x7000, rig.vcpu.nowNanos()));
        rig.vcpu.injectPageFault(0x8000, new Delivery(Delivery.Kind.PAGE_READY, 0x8000, 0x8000, rig.vcpu.nowNanos()));
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
            rig.stepUntil("user code", () -> rig.at("USER", 0));
            long cr2Before = rig.vcpu.cr2();
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            assertTrue(rig.at("NMI", 0) && rig.vcpu.nmiBlocked());
            // Two more NMIs while blocked: one is latched.
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler's user read faults, or the NMI ends", 10_000,
                    () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine || !rig.vcpu.nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue; // the read hit the one mapped page: try another seed
            }
            assertEquals(1, rig.count(Counter.NMIS_DELIVERED), "the latched NMI waits while blocked");
            rig.step();
            assertTrue(rig.at("PF_LEGACY", 0), "the #PF (an exception) is delivered despite NMI blocking");
            long b = rig.vcpu.cr2();
            assertNotEquals(cr2Before, b);
            rig.stepUntil("the nested #PF's IRET", () -> !rig.vcpu.nmiBlocked());
            assertEquals("NMI", rig.vcpu.currentRoutine(), "still inside the first NMI handler");
            assertEquals(1, rig.count(Counter.NMIS_DELIVERED));
            rig.step();
            assertTrue(rig.at("NMI", 0), "the latched NMI is delivered right after that IRET, nested");
            assertEquals(2, rig.count(Counter.NMIS_DELIVERED));
            rig.stepUntil("every NMI handler done", () -> !rig.vcpu.nmiBlocked() && !rig.vcpu.currentRoutine().equals("NMI"));
            assertEquals(2, rig.count(Counter.NMIS_DELIVERED), "two NMIs sent while blocked gave one delivery");
            assertEquals(cr2Before, rig.vcpu.cr2(), "CR2 restored at NMI exit (reference §4(i) mitigations)");
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
            rig.stepUntil("user code", () -> rig.at("USER", 0));
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler's user read faults, or the NMI ends", 10_000,
                    () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine || !rig.vcpu.nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue;
            }
            // Watch the NMI frames: body runs of the first handler (pc 1 entered from pc 0 or 3), and
            // that a nested NMI frame never runs the body (pc 0 -> 4).
            int[] bodyRuns = {1};
            String[] prev = {rig.vcpu.currentRoutine() + ":" + rig.vcpu.currentPc()};
            rig.observe(() -> {
                String now = rig.vcpu.currentRoutine() + ":" + rig.vcpu.currentPc();
                if (now.equals("NMI:1") && (prev[0].equals("NMI:3") || prev[0].equals("NMI:0"))) {
                    bodyRuns[0]++;
                }
                if (prev[0].equals("NMI:0") && rig.count(Counter.NMIS_DELIVERED) > 1 && !now.equals("NMI:4")
                        && !now.equals("NMI:1")) {
                    fail("a nested NMI frame went from pc 0 to " + now);
                }
                prev[0] = now;
            });
            rig.stepUntil("the nested #PF's IRET", () -> !rig.vcpu.nmiBlocked());
            assertEquals("NMI", rig.vcpu.currentRoutine());
            // Three NMIs while the first handler is still running: the first right after the IRET.
            for (int i = 0; i < 3; i++) {
                rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
                rig.step();
                if (i == 0) {
                    assertTrue(rig.at("NMI", 0), "delivered nested, NMIs having been re-opened by the #PF's IRET");
                }
            }
            rig.stepUntil("every NMI handler done", () -> !rig.vcpu.nmiBlocked() && !rig.vcpu.currentRoutine().equals("NMI"));
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
