package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.NmiHandler;
import dev.vcpuemu.model.guest.program.Panics;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.HostRules;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.EventCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hazard (i): an NMI taken at the boundary right after an async not-present #PF is delivered,
 * before the handler's first micro-op reads CR2 and the reason/flags word (reference §1.8, §4(i)).
 */
class NmiWindowTest {
    private static final int SEEDS = 20;

    /**
     * vCPU events and findings of the scripted interleaving of §4(i) from the rig's start to the
     * stolen word (step 5): the size the deterministic engine's shrinking aims at (at most twice
     * this, {@code ShrinkerTest}); {@link #theScriptedInterleavingHasItsSize} keeps it honest.
     */
    static final int SCRIPTED_EVENTS_TO_STOLEN_WORD = 16;

    /** The state at the moment the NMI was delivered into the window. */
    private record Window(Rig rig, WorkItem work, long token, Routine pfRoutine, long genuineAtNmi, EventCounter events) {}

    private static TestSettings settings(HostEra era) {
        // A working set much larger than the page-table mapping limit: the NMI handler's user read
        // almost always finds its guest PTE not present and takes a genuine guest #PF.
        return TestSettings.matching(era)
                .tasks(2).workingSet(16).mappedPages(1).tick(1_000_000).wedgeTimeout(50_000_000);
    }

    /**
     * Runs to an async not-present #PF just delivered to task 0 (handler at pc 0), then injects an
     * NMI due at that very boundary and steps once, so that the NMI is delivered in the window.
     */
    private static Window nmiInWindow(HostEra era, long seed, double userRead) {
        Rig rig = new Rig(settings(era).build(), seed);
        EventCounter events = new EventCounter();
        rig.vcpu.eventSink(events);
        Routine pf = HostRules.of(era).pageReadyAsPageFault() ? Routine.PF_LEGACY
                : era == HostEra.INTERRUPT ? Routine.PF_INTERRUPT : Routine.PF_ERROR_CODE;
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("async not-present #PF delivered to task 0", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1
                && rig.atEntry(pf));
        WorkItem w = rig.lastStarted();
        long token = w.token() & 0xFFFFFFFFL;
        assertEquals(token, rig.vcpu.cpu().cr2());
        assertEquals(1, rig.vcpu.host().area().word(), "R/F = 1 written for the not-present");
        assertFalse(rig.vcpu.cpu().interruptFlag(), "IF=0 through the #PF gate");
        assertFalse(rig.vcpu.cpu().nmiBlocked());

        rig.vcpu.onNmi(rig.vcpu.nowNanos(), userRead);
        rig.step();
        assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "NMI delivered at the handler's first instruction boundary");
        assertTrue(rig.vcpu.cpu().nmiBlocked());
        assertEquals(1, rig.vcpu.host().area().word(), "the word is still unread");
        return new Window(rig, w, token, pf, rig.count(Counter.GENUINE_PAGE_FAULTS), events);
    }

    /**
     * Tries fixed seeds until the NMI handler's user read takes a genuine guest #PF inside the
     * window (with a small working set it sometimes reads the one mapped page instead). Returns
     * with that nested #PF just delivered (its handler at pc 0).
     */
    private static Window nmiWithNestedFault(HostEra era) {
        for (long seed = 1; seed <= SEEDS; seed++) {
            Window win = nmiInWindow(era, seed, 1.0);
            Rig rig = win.rig;
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler faults or finishes", 10_000, () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine
                    || rig.count(Counter.SYNCHRONOUS_FAULTS) > 0 || !rig.vcpu.cpu().nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine) {
                assertTrue(rig.vcpu.cpu().nmiBlocked());
                assertEquals(1, rig.vcpu.host().area().word(), "the nested #PF is raised, not yet handled");
                rig.step();
                assertTrue(rig.atEntry(win.pfRoutine), "the nested #PF delivered inside the NMI");
                // USER_BASE has zero low 32 bits, so (u32)b of page p equals token p << 12 on vCPU 0:
                // skip the seed where the nested wait would use the outer token by accident.
                if ((int) rig.vcpu.cpu().cr2() != (int) win.token) {
                    return win;
                }
            }
        }
        fail("in " + SEEDS + " seeds the NMI handler's user read never took a genuine #PF in the window");
        return null;
    }

    @Test
    void theScriptedInterleavingHasItsSize() {
        Window win = nmiWithNestedFault(HostEra.LEGACY);
        win.rig.stepUntil("the nested handler consumed R", () -> win.rig.findingCount(FindingKind.APF_WORD_STOLEN) == 1);
        assertEquals(SCRIPTED_EVENTS_TO_STOLEN_WORD, win.events.count());
    }

    @Test
    void behaviour18_nmiWindowLegacyGuestWedgesInNmiAndLeaksDummy() {
        // reference §5 behaviour 18, §4(i) GL steps 1-11, §4(vii)
        Window win = nmiWithNestedFault(HostEra.LEGACY);
        Rig rig = win.rig;

        // Step 5: the nested #PF handler reads R = 1 (the outer not-present's) and clears it.
        long b = rig.vcpu.cpu().cr2();
        rig.stepUntil("the nested handler consumed R", () -> rig.findingCount(FindingKind.APF_WORD_STOLEN) == 1);
        Finding stolen = rig.findingsOf(FindingKind.APF_WORD_STOLEN).get(0);
        assertTrue(stolen.detail().contains("inside an NMI handler"), stolen.detail());
        assertEquals(0, rig.vcpu.host().area().word());
        assertEquals(b, rig.vcpu.cpu().cr2(), "CR2 = the NMI's fault address");
        assertNotEquals(win.token, b);

        // Step 6: wait((u32)b) takes the halt path in NMI context: STI; HLT with the node hashed.
        rig.stepUntil("halted in the async #PF wait loop", () -> rig.vcpu.cpu().halted());
        assertEquals(Routine.WAIT, rig.routine());
        assertEquals(0, rig.vcpu.currentTask(), "still task 0, inside its NMI");
        assertTrue(rig.vcpu.cpu().interruptFlag(), "STI; HLT");
        assertTrue(rig.vcpu.cpu().nmiBlocked(), "no IRET since the NMI yet");
        assertEquals(1, rig.sleepers.size(), "N_b hashed");
        assertTrue(rig.vcpu.host().outstanding(win.work.gfn()), "W(t) still in flight");

        // The vCPU stays there: interrupts are served on top of the halt loop, the task never resumes.
        rig.vcpu.run(rig.vcpu.nowNanos() + 2 * rig.settings.guest().wedgeTimeoutNanos(), Integer.MAX_VALUE);
        assertEquals(1, rig.findingCount(FindingKind.VCPU_WEDGED), "wedged after the wedge timeout: " + rig.findings);
        Finding wedged = rig.findingsOf(FindingKind.VCPU_WEDGED).get(0);
        assertTrue(wedged.detail().contains("inside an NMI handler"), wedged.detail());
        assertTrue(rig.vcpu.cpu().halted());
        assertEquals(Routine.WAIT, rig.routine());
        assertEquals(0, rig.vcpu.currentTask());

        // Steps 7-11: the page-ready for t finds no node and leaves a dummy nobody will consume.
        long pageReady = rig.count(Counter.APF_PAGE_READY_INJECTED);
        rig.complete(win.work);
        rig.stepUntil("page-ready #PF delivered", () -> rig.count(Counter.APF_PAGE_READY_INJECTED) > pageReady
                && rig.atEntry(Routine.PF_LEGACY));
        assertEquals(win.token, rig.vcpu.cpu().cr2());
        assertEquals(2, rig.vcpu.host().area().word());
        rig.stepUntil("dummy leaked", () -> rig.findingCount(FindingKind.DUMMY_LEAK) == 1);
        rig.stepUntil("halted again in the NMI's wait loop", () -> rig.vcpu.cpu().halted());
        assertEquals(Routine.WAIT, rig.routine());
        assertFalse(rig.vcpu.cpu().nmiBlocked(), "the page-ready handler's IRET re-opened NMIs inside the NMI (§4(vii))");
        assertEquals(2, rig.sleepers.size(), "N_b and the leaked dummy D_t");
        assertEquals(1, rig.count(Counter.DUMMIES_CREATED));
        rig.steps(1000);
        rig.stepUntil("halted", () -> rig.vcpu.cpu().halted());
        assertEquals(Routine.WAIT, rig.routine(), "still wedged");
        assertEquals(0, rig.count(Counter.TASKS_WOKEN));
        assertFalse(rig.vcpu.dead());
        assertEquals(List.of(FindingKind.APF_WORD_STOLEN, FindingKind.VCPU_WEDGED, FindingKind.DUMMY_LEAK),
                rig.findings.stream().map(Finding::kind).toList());
    }

    @Test
    void behaviour18_nmiWindowLegacyPageReadyVariantLosesTheWakeup() {
        // reference §5 behaviour 18, §4(i) "Same window, legacy page-ready variant"
        for (long seed = 1; seed <= SEEDS; seed++) {
            Rig rig = new Rig(settings(HostEra.LEGACY).hungTaskTimeout(50_000_000).build(), seed);
            rig.allResident();
            rig.settleWakeAll();
            rig.evictUser(0);
            rig.stepUntil("task 0 asleep on t", () -> rig.vcpu.sleepingTasks() == 1);
            WorkItem w = rig.lastStarted();
            long token = w.token() & 0xFFFFFFFFL;
            rig.complete(w);
            rig.stepUntil("page-ready #PF delivered", () -> rig.atEntry(Routine.PF_LEGACY) && rig.vcpu.host().area().word() == 2);
            assertEquals(token, rig.vcpu.cpu().cr2());
            int interrupted = rig.vcpu.currentTask();
            assertEquals(1, interrupted, "delivered while task 1 runs");
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "NMI in the page-ready handler's window");
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler faults or finishes", 10_000, () -> rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine
                    || rig.count(Counter.SYNCHRONOUS_FAULTS) > 0 || !rig.vcpu.cpu().nmiBlocked());
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue;
            }
            rig.step();
            assertTrue(rig.atEntry(Routine.PF_LEGACY));
            long b = rig.vcpu.cpu().cr2();
            if ((int) b == (int) token) {
                continue; // see nmiWithNestedFault
            }
            // The nested #PF consumes R = 2: the wakeup for t is lost and wake((u32)b) leaks a dummy.
            rig.stepUntil("nested handler done and the NMI returned", () -> !rig.vcpu.cpu().nmiBlocked());
            assertEquals(1, rig.findingCount(FindingKind.APF_WORD_STOLEN), "findings " + rig.findings);
            assertEquals(1, rig.findingCount(FindingKind.LOST_WAKEUP));
            assertEquals(1, rig.findingCount(FindingKind.DUMMY_LEAK));
            // The NMI restored CR2 = t; the outer handler reads R = 0: a "genuine" #PF at address t.
            rig.stepUntil("outer handler read R", () -> rig.findingCount(FindingKind.SPURIOUS_FAULT_AT_TOKEN) == 1
                    || rig.vcpu.dead());
            assertEquals(1, rig.findingCount(FindingKind.SPURIOUS_FAULT_AT_TOKEN));
            assertEquals(token, rig.vcpu.cpu().cr2(), "CR2 restored to t at NMI exit");
            // Either the innocent user task gets SIGSEGV or the kernel oopses, by where the #PF landed.
            rig.stepUntil("the fault at t handled", () -> rig.count(Counter.TASKS_KILLED) == 1 || rig.vcpu.dead());
            if (rig.vcpu.dead()) {
                assertTrue(rig.vcpu.deathReason().contains("unable to handle page fault for address: 0x"
                        + Long.toHexString(token)), rig.vcpu.deathReason());
            } else {
                // Task 0 is never woken: hung.
                rig.vcpu.run(rig.vcpu.nowNanos() + 2 * rig.settings.guest().hungTaskTimeoutNanos(), Integer.MAX_VALUE);
                assertEquals(1, rig.vcpu.sleepingTasks());
                assertEquals(1, rig.findingCount(FindingKind.HUNG_TASK), "findings " + rig.findings);
                assertEquals(0, rig.count(Counter.TASKS_WOKEN));
            }
            return;
        }
        fail("in " + SEEDS + " seeds the NMI handler's user read never took a genuine #PF in the window");
    }

    @Test
    void behaviour19_nmiWindowInterruptGuestPanics() {
        // reference §5 behaviour 19, §4(i) "GI/G58 (>=5.8)" step 6'
        Window win = nmiWithNestedFault(HostEra.INTERRUPT);
        Rig rig = win.rig;
        rig.stepUntil("guest panic", () -> rig.vcpu.dead());
        List<Finding> panics = rig.findingsOf(FindingKind.GUEST_PANIC);
        assertEquals(1, panics.size(), "findings " + rig.findings);
        assertTrue(panics.get(0).detail().contains("Host injected async #PF in interrupt disabled region"),
                panics.get(0).detail());
        assertTrue(rig.vcpu.deathReason().contains(Panics.IF_OFF));
        assertEquals(1, rig.findingCount(FindingKind.APF_WORD_STOLEN), "the nested handler read F = 1");
        // The state at the panic: IF=0, NB=1, CR2=b, F=0, GH={}, W still in flight.
        assertFalse(rig.vcpu.cpu().interruptFlag());
        assertTrue(rig.vcpu.cpu().nmiBlocked());
        assertNotEquals(win.token, rig.vcpu.cpu().cr2());
        assertEquals(0, rig.vcpu.host().area().word());
        assertEquals(0, rig.sleepers.size());
        assertTrue(rig.vcpu.host().outstanding(win.work.gfn()));
        assertEquals(0, rig.vcpu.run(Long.MAX_VALUE, 10), "a dead guest runs no boundary");
    }

    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"ERROR_CODE", "VE"}, mode = EnumSource.Mode.EXCLUDE)
    void behaviour20_nmiWindowWithoutNestedFaultHasNoEffect(HostEra era) {
        // reference §5 behaviour 20, §4(i) "NMI without a nested fault"
        Window win = nmiInWindow(era, 1, 0.0);
        Rig rig = win.rig;
        rig.stepUntil("back in the #PF handler after the NMI", () -> rig.atEntry(win.pfRoutine) && !rig.vcpu.cpu().nmiBlocked());
        assertEquals(win.token, rig.vcpu.cpu().cr2(), "CR2 = t at the handler's read");
        assertEquals(1, rig.vcpu.host().area().word(), "R/F intact");
        assertEquals(1, rig.count(Counter.NMIS_DELIVERED));
        assertEquals(win.genuineAtNmi, rig.count(Counter.GENUINE_PAGE_FAULTS), "no fault in the NMI");
        rig.stepUntil("task 0 asleep on t", () -> rig.vcpu.sleepingTasks() == 1);
        assertTrue(rig.sleepers.size() == 1);
        rig.complete(win.work);
        rig.stepUntil("task 0 woken", () -> rig.vcpu.sleepingTasks() == 0);
        rig.stepUntil("task 0 back at its faulting access", () -> rig.vcpu.currentTask() == 0 && rig.at(Routine.USER, UserLoop.ACCESS));
        rig.step();
        assertTrue(rig.vcpu.currentTask() == 0 && rig.routine() == Routine.USER && rig.pc() != 1,
                "the task completed its access normally");
        assertEquals(1, rig.count(Counter.TOKENS_ISSUED));
        assertEquals(0, rig.sleepers.size());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void behaviour20_theNmiExitRestoresCr2AfterAFaultInsideTheNmi() {
        // reference §5 behaviour 20 "CR2 is restored at NMI exit", §4(i) mitigations: "the NMI
        // handler saves CR2 and restores it if changed" [V N36, N510]. A GL-a guest (≤5.2) reads CR2
        // after the reason word (§4(i) second window); an NMI lands between the two reads and its
        // perf user read takes a genuine #PF (R is already consumed, so that nested fault is plain).
        // CR2 now holds the perf read's address; only the restore at NMI exit lets the outer handler
        // read t and wait on the right token.
        for (long seed = 1; seed <= SEEDS; seed++) {
            Rig rig = new Rig(settings(HostEra.LEGACY).eras(HostEra.LEGACY, GuestEra.LEGACY_EARLY).build(), seed);
            rig.allResident();
            rig.settleWakeAll();
            rig.evictUser(0);
            rig.stepUntil("async not-present delivered", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1
                    && rig.atEntry(Routine.PF_LEGACY_EARLY));
            long token = rig.lastStarted().token() & 0xFFFFFFFFL;
            rig.stepUntil("the reason word read, CR2 not yet", () -> rig.at(Routine.PF_LEGACY_EARLY, 1));
            assertEquals(0, rig.vcpu.host().area().word(), "R consumed by the right handler");
            rig.vcpu.onNmi(rig.vcpu.nowNanos(), 1.0);
            rig.step();
            assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "the NMI between the reason read and read_cr2()");
            long genuine = rig.count(Counter.GENUINE_PAGE_FAULTS);
            rig.stepUntil("the NMI handler's perf read faults or the NMI ends", () -> !rig.vcpu.cpu().nmiBlocked()
                    || rig.count(Counter.GENUINE_PAGE_FAULTS) > genuine);
            if (rig.count(Counter.GENUINE_PAGE_FAULTS) == genuine) {
                continue; // the perf read hit a mapped page: no nested fault on this seed
            }
            rig.step();
            assertNotEquals(token, rig.vcpu.cpu().cr2(), "the nested #PF overwrote CR2");
            rig.stepUntil("back in the outer handler after the NMI", () -> rig.at(Routine.PF_LEGACY_EARLY, 1)
                    && !rig.vcpu.cpu().nmiBlocked());
            assertEquals(token, rig.vcpu.cpu().cr2(), "the NMI exit restored CR2 = t");
            rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
            SleeperNode node = rig.sleepers.find(SleeperTable.bucket((int) token), (int) token);
            assertTrue(node != null && node.task == 0, "task 0 waits on t, not on the perf read's address");
            assertEquals(List.of(), rig.findings);
            return;
        }
        fail("in " + SEEDS + " seeds the NMI handler's user read never took a genuine #PF");
    }

    @Test
    void anNmisKickInjectsAQueuedLegacyPageReadyAndTheNmiLandsInItsWindow() {
        // reference §2.1: a legacy completion does not kick the vCPU; its page-ready waits for the
        // next entry (behaviour 13). kvm_inject_nmi kicks: at that entry the completion check injects
        // the page-ready #PF first, and the NMI is taken at its handler's first boundary, the window
        // of hazard (i) with R = 2.
        Rig rig = new Rig(settings(HostEra.LEGACY).mappedPages(16).tick(1_000_000_000L).exitInterval(1_000_000_000L)
                .build(), 3);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 took an async not-present #PF", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1);
        WorkItem w = rig.lastStarted();
        rig.stepUntil("task 0 asleep, task 1 in user code", () -> rig.vcpu.sleepingTasks() == 1
                && rig.at(Routine.USER, UserLoop.PICK));
        long pageReadies = rig.count(Counter.APF_PAGE_READY_INJECTED);
        rig.complete(w);
        rig.steps(20);
        rig.stepUntil("task 1 in user code", () -> rig.at(Routine.USER, UserLoop.PICK));
        assertEquals(pageReadies, rig.count(Counter.APF_PAGE_READY_INJECTED), "no exit, no page-ready");
        assertTrue(rig.vcpu.cpu().interruptFlag());

        rig.vcpu.onNmi(rig.vcpu.nowNanos(), 0.0);
        rig.step();
        assertTrue(rig.atEntry(Routine.PF_LEGACY), "the kick's entry injected the page-ready #PF");
        assertEquals(pageReadies + 1, rig.count(Counter.APF_PAGE_READY_INJECTED));
        assertEquals(2, rig.vcpu.host().area().word(), "R = 2, unread");
        rig.step();
        assertTrue(rig.at(Routine.NMI, NmiHandler.ENTRY), "the NMI at the page-ready handler's first boundary");
        assertEquals(2, rig.vcpu.host().area().word());
        rig.stepUntil("task 0 woken", () -> rig.vcpu.sleepingTasks() == 0);
        assertEquals(List.of(), rig.findings, "an NMI that takes no fault leaves the window harmless (behaviour 20)");
    }
}
