package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.L1PageFaultExit;
import dev.vcpuemu.model.guest.program.Panics;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.TraceEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Variant (d), delivery as a #PF VM exit to L1 (reference §2.4, §5 behaviour 27, hazard xiv):
 * the guest is KVM itself (L1), its task 0 an L2 vCPU thread whose L2 code touches a page the
 * host (L0) has swapped out.
 */
class NestedTest {

    /** One event as the vCPU recorded it. */
    private record Event(TraceEvent what, long arg) {}

    /** One L2 vCPU thread (task 0) with one page of L2 memory, swapped out; L1's kernel resident. */
    private static Rig l2Thread(TestSettings settings, List<Event> events) {
        Rig rig = new Rig(settings.tasks(1).workingSet(1).mappedPages(1).build(), 11);
        rig.kernelResident();
        rig.vcpu.eventSink((vcpu, at, what, arg) -> events.add(new Event(what, arg)));
        return rig;
    }

    private static boolean seen(List<Event> events, TraceEvent what, long arg) {
        return events.contains(new Event(what, arg));
    }

    /** Every host era that offers CPUID bit 10, with its own guest. */
    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"LEGACY_DF_GUARD", "LEGACY", "LEGACY_FIXED", "INTERRUPT"})
    void behaviour27_withBit2AnL2FaultIsAPfVmExitToL1AndItsVcpuThreadSleepsOnTheExitQualification(HostEra era) {
        List<Event> events = new ArrayList<>();
        Rig rig = l2Thread(TestSettings.matching(era).nested(1, true), events);
        rig.settleWakeAll();
        assertTrue((rig.vcpu.host().msrEn() & Msr.EN_DELIVERY_AS_PF_VMEXIT) != 0, "Linux sets bit 2 with CPUID bit 10");
        long cr2Before = rig.vcpu.cpu().cr2();

        rig.stepUntil("the #PF VM exit delivered to L1", () -> rig.routine() == Routine.L1_PF_EXIT);
        WorkItem item = rig.lastStarted();
        long token = item.token() & 0xFFFFFFFFL;
        assertTrue(seen(events, TraceEvent.PF_VM_EXIT, token), "exit qualification = token: " + events);
        assertEquals(cr2Before, rig.vcpu.cpu().cr2(), "L1's CR2 is not touched (§2.4 step 3)");
        assertFalse(rig.vcpu.cpu().interruptFlag(), "L1 handles the exit with IRQs off");

        rig.stepUntil("the vCPU thread asleep", () -> rig.vcpu.sleepingTasks() == 1);
        assertTrue(seen(events, TraceEvent.READ_CLEAR_APF_WORD, 1), "L1 read its flags: 1 (§2.4 step 4)");
        assertEquals(0, rig.vcpu.host().area().word(), "and cleared them");
        SleeperNode node = rig.sleepers.find(SleeperTable.bucket(item.token()), item.token());
        assertTrue(node != null && !node.isDummy() && node.task == 0 && !node.halted,
                "task 0 sleeps (schedules away) on the exit qualification's token");
        assertFalse(rig.vcpu.host().halted(), "no synthetic halt: L1 runs on (its idle task)");
        assertEquals(1, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(1, rig.count(Counter.PF_VM_EXITS));

        rig.complete(item);
        rig.stepUntil("woken by its page-ready", () -> rig.vcpu.sleepingTasks() == 0);
        rig.stepUntil("back in L2, the access retried and retired", () -> rig.at(Routine.L2_GUEST, UserLoop.COMPUTE));
        assertTrue(seen(events, TraceEvent.VM_ENTRY_TO_L2, 0));
        assertEquals(List.of(), rig.findings);
    }

    /**
     * Host eras from 5.0 on with the 208081 fix: can_do holds in guest mode, can_deliver does not
     * without bit 2, and nothing is sent for the not-present never injected.
     */
    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"LEGACY_FIXED", "INTERRUPT"})
    void behaviour27_withoutBit2TheHostHaltsTheVcpuAndL1SeesNothing(HostEra era) {
        List<Event> events = new ArrayList<>();
        Rig rig = l2Thread(TestSettings.matching(era).nested(1, false), events);
        rig.settleWakeAll();
        assertEquals(0, rig.vcpu.host().msrEn() & Msr.EN_DELIVERY_AS_PF_VMEXIT);
        List<Routine> l1Routines = new ArrayList<>();
        rig.observe(() -> {
            if (rig.routine() == Routine.L1_PF_EXIT || rig.routine().name().startsWith("PF_")) {
                l1Routines.add(rig.routine());
            }
        });
        long cr2Before = rig.vcpu.cpu().cr2();
        long haltsBefore = rig.count(Counter.SYNTHETIC_HALTS);

        rig.stepUntil("the host's synthetic halt", () -> rig.vcpu.host().halted());
        assertEquals(haltsBefore + 1, rig.count(Counter.SYNTHETIC_HALTS));
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "nothing injected");
        assertEquals(0, rig.count(Counter.PF_VM_EXITS));
        assertEquals(Routine.L2_GUEST, rig.routine(), "L2 stays where it was, its access not retired");
        assertEquals(0, rig.vcpu.sleepingTasks());

        rig.complete(rig.lastStarted());
        rig.stepUntil("the access retried and retired", () -> rig.at(Routine.L2_GUEST, UserLoop.COMPUTE));
        assertFalse(rig.vcpu.host().halted());
        assertEquals(List.of(), l1Routines, "L1 never ran a handler for it");
        assertEquals(cr2Before, rig.vcpu.cpu().cr2());
        assertFalse(events.stream().anyMatch(e -> e.what().text.contains("VM exit")), events.toString());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void withoutBit2ALegacyHostBeforeThe208081FixStillSendsThePageReady_aVmExitToL1ThatLeavesADummy() {
        // Hazard (viii) in guest mode: the halt is invisible to L1, its page-ready is not (a #PF VM exit, reason 2).
        List<Event> events = new ArrayList<>();
        Rig rig = l2Thread(TestSettings.legacy().nested(1, false), events);
        rig.settleWakeAll();
        rig.stepUntil("the host's synthetic halt", () -> rig.vcpu.host().halted());
        WorkItem item = rig.lastStarted();
        rig.complete(item);
        rig.stepUntil("the access retried and retired", () -> rig.at(Routine.L2_GUEST, UserLoop.COMPUTE));
        long token = item.token() & 0xFFFFFFFFL;
        assertTrue(seen(events, TraceEvent.HOST_INJECT_PAGE_READY_VM_EXIT, token), events.toString());
        assertTrue(seen(events, TraceEvent.READ_CLEAR_APF_WORD, 2));
        assertTrue(seen(events, TraceEvent.WAKE_LEFT_DUMMY, token));
        assertEquals(1, rig.findingCount(FindingKind.DUMMY_LEAK), rig.findings.toString());
    }

    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"LEGACY_EARLY", "LEGACY_DF_GUARD"})
    void beforeFiveTheHostRefusesAsyncWorkInGuestModeWithoutBit2_aSynchronousFault(HostEra era) {
        // §2.0 step 2 [V MMU4]: kvm_can_do_async_pf is false in guest mode unless delivery_as_pf_vmexit.
        Rig rig = l2Thread(TestSettings.matching(era).nested(1, false), new ArrayList<>());
        rig.settleWakeAll();
        long syncBefore = rig.count(Counter.SYNCHRONOUS_FAULTS);
        rig.stepUntil("the vCPU stalled in the host's fault path", () -> rig.vcpu.stalled());
        assertEquals(syncBefore + 1, rig.count(Counter.SYNCHRONOUS_FAULTS));
        assertEquals(List.of(), rig.started, "no async work for the L2 fault");
        assertEquals(Routine.L2_GUEST, rig.routine());
        rig.stepUntil("the access retired after the stall", () -> rig.at(Routine.L2_GUEST, UserLoop.COMPUTE));
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void theHostOfAtMost414OffersNoBit10_soTheGuestNeverAsksForVmExits() {
        Rig rig = l2Thread(TestSettings.matching(HostEra.LEGACY_EARLY).nested(1, true), new ArrayList<>());
        rig.settleWakeAll();
        assertFalse(rig.vcpu.host().cpuid(KvmFeature.ASYNC_PF_VMEXIT));
        assertEquals(0, rig.vcpu.host().msrEn() & Msr.EN_DELIVERY_AS_PF_VMEXIT);
    }

    @Test
    void aUserOnlyL1GetsNoVmExitForAFaultInL2KernelMode_theCplIsL2s() {
        // §2.0 6.4: send_user_only && get_cpl() == 0, with the CPL of L2 in guest mode.
        Rig rig = l2Thread(TestSettings.interrupt().nested(1, true).syscalls(1.0, 1, 0, 0), new ArrayList<>());
        rig.settleWakeAll();
        rig.stepUntil("the host's synthetic halt", () -> rig.vcpu.host().halted());
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void theDesignsDefineNoDeliveryToL1_anL2FaultIsASyntheticHalt() {
        for (HostEra era : List.of(HostEra.ERROR_CODE, HostEra.VE)) {
            Rig rig = l2Thread(TestSettings.matching(era).nested(1, true), new ArrayList<>());
            rig.settleWakeAll();
            assertEquals(0, rig.vcpu.host().msrEn() & Msr.EN_DELIVERY_AS_PF_VMEXIT, era.name());
            rig.stepUntil("the host's synthetic halt", () -> rig.vcpu.host().halted());
            assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), era.name());
        }
    }

    @Test
    void aPageReadyInTheWindowBeforeTheWaitLeavesADummyThatTheWaitConsumes() {
        // §2.4 step 6 (Sean, 2022): L1 handles the exit after re-enabling IRQs, so wake-before-wait
        // (§4(iii) B) is reachable here: the wake leaves a dummy, the wait finds it and returns.
        Rig rig = l2Thread(TestSettings.interrupt().nested(1, true), new ArrayList<>());
        rig.settleWakeAll();
        rig.stepUntil("L1 has read its flags and enabled IRQs", () -> rig.at(Routine.L1_PF_EXIT, L1PageFaultExit.DISPATCH));
        rig.complete(rig.lastStarted());
        rig.stepUntil("the page-ready interrupt handled in the window", () -> rig.count(Counter.DUMMIES_CREATED) == 1);
        rig.stepUntil("back in L2, the access retired", () -> rig.at(Routine.L2_GUEST, UserLoop.COMPUTE));
        assertEquals(0, rig.count(Counter.TASKS_SLEPT), "the wait found the dummy and never slept");
        assertEquals(0, rig.sleepers.size(), "the dummy was freed");
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void onALegacyHostAPageReadyWhileAnotherThreadRunsL2IsAVmExitToo_L1ReadsReason2AndWakes() {
        // 4.19 kvm_inject_page_fault: any async #PF in guest mode is a #PF VM exit; §2.4 step 4's reason-2 branch.
        List<Event> events = new ArrayList<>();
        Rig rig = new Rig(TestSettings.legacy().nested(2, true).tasks(2).workingSet(1).mappedPages(1).build(), 11);
        rig.kernelResident();
        rig.vcpu.eventSink((vcpu, at, what, arg) -> events.add(new Event(what, arg)));
        rig.settleWakeAll();
        rig.stepUntil("task 0 asleep in L1", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem t0 = rig.lastStarted();
        rig.userResident(1);
        rig.stepUntil("task 1 running L2", () -> rig.vcpu.currentTask() == 1 && rig.at(Routine.L2_GUEST, UserLoop.COMPUTE));
        rig.complete(t0);
        rig.stepUntil("task 0 woken", () -> rig.vcpu.sleepingTasks() == 0);
        long token = t0.token() & 0xFFFFFFFFL;
        assertTrue(seen(events, TraceEvent.HOST_INJECT_PAGE_READY_VM_EXIT, token), events.toString());
        assertTrue(seen(events, TraceEvent.READ_CLEAR_APF_WORD, 2));
        assertTrue(seen(events, TraceEvent.WAKE, token));
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void hazardXiv_aFaultBeforeL1ReadsItsFlagsConsumesThem_andThe59HandlerPanics() {
        // §4 (xiv): after the VM exit, instrumented code runs before the flags read; a #PF there
        // makes exc_page_fault consume flags = 1, with IRQs off from the exit: a panic.
        Rig rig = l2Thread(TestSettings.interrupt().nested(1, true).entryFaultProbability(1.0), new ArrayList<>());
        rig.settleWakeAll();
        rig.vcpu.run(rig.vcpu.nowNanos() + 10_000_000, Integer.MAX_VALUE);
        assertTrue(rig.vcpu.dead());
        assertEquals("guest panic: " + Panics.IF_OFF, rig.vcpu.deathReason());
        assertEquals(1, rig.findingCount(FindingKind.APF_WORD_STOLEN), rig.findings.toString());
        assertTrue(rig.findingsOf(FindingKind.APF_WORD_STOLEN).get(0).detail().contains("genuine #PF at 0xffffc90000000fff"));
    }

    @Test
    void withoutEntryFaultsTheSameL1NeverLosesItsFlags() {
        Rig rig = l2Thread(TestSettings.interrupt().nested(1, true), new ArrayList<>());
        rig.settleWakeAll();
        rig.vcpu.run(rig.vcpu.nowNanos() + 10_000_000, Integer.MAX_VALUE);
        assertFalse(rig.vcpu.dead());
        assertNotEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(List.of(), rig.findings);
    }
}
