package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.Syscall;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.truth.TokenFate;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The legacy eras of host and guest (reference §2.1, §4(i) "Second window", §4(iv) "Legacy",
 * hazard viii): the same scripted interleaving on each era, and what differs.
 */
class LegacyErasTest {

    /**
     * Task 0 sleeps on t1 = 0x1000 and its completion waits on the done list; task 1 then takes
     * an async not-present (t2), whose EPT exit runs the completion check while that #PF is
     * still pending delivery (§4(iv) "Legacy" steps 1–2).
     */
    private static Rig notPresentWithACompletionQueued(HostEra era) {
        Rig rig = new Rig(TestSettings.matching(era).tasks(2).workingSet(1).mappedPages(1).build(), 5);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("task 0 asleep on t1", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem t1 = rig.lastStarted();
        assertEquals(0x1000, t1.token());
        rig.complete(t1);
        rig.stepUntil("task 1's not-present issued", () -> rig.started.size() == 2);
        assertEquals(0x2000, rig.lastStarted().token());
        return rig;
    }

    @Test
    void hostBefore415InjectsPageReadyOnThePendingNotPresent_aDoubleFault() {
        // §4(iv) "Legacy": without the pending-exception check a second #PF is queued on the first: #DF, t1 lost.
        Rig rig = notPresentWithACompletionQueued(HostEra.LEGACY_EARLY);
        rig.step();
        assertEquals(1, rig.findingCount(FindingKind.DOUBLE_FAULT), rig.findings.toString());
        assertTrue(rig.findingsOf(FindingKind.DOUBLE_FAULT).get(0).detail()
                .contains("PAGE_READY token 0x1000) while #PF (NOT_PRESENT token 0x2000)"));
        assertTrue(rig.vcpu.dead(), "the #DF is delivered at once: the guest panics");
        assertEquals("guest panic: double fault", rig.vcpu.deathReason());
    }

    @Test
    void theDfGuardOf415CancelsBothWithoutComparingTokens_theWakeupIsLostAndTheDummyLeaks() {
        // §2.1 step 5: reason 1 and a pending #PF: write 0, drop the pending #PF, send nothing.
        Rig rig = notPresentWithACompletionQueued(HostEra.LEGACY_DF_GUARD);
        List<String> events = new ArrayList<>();
        rig.vcpu.eventSink((cpu, at, what, arg) -> events.add(what + " " + Long.toHexString(arg)));
        rig.step();
        assertTrue(events.contains("host #DF guard cancels not-present token 2000"), events.toString());
        assertEquals(0, rig.findingCount(FindingKind.DOUBLE_FAULT));
        assertEquals(1, rig.count(Counter.PAGE_READY_SUPPRESSED), "t1's page-ready is not sent");
        assertEquals(0, rig.vcpu.host().area().word(), "the guard wrote 0");

        // Task 1 retries; t2 is still outstanding on this vCPU: a synthetic halt (§2.0 step 4).
        rig.stepUntil("task 1 retries into a synthetic halt", () -> rig.vcpu.host().halted());
        rig.complete(rig.lastStarted());
        rig.stepUntil("the page-ready of t2 made a dummy nobody waits for",
                () -> rig.findingCount(FindingKind.DUMMY_LEAK) == 1);
        assertEquals(1, rig.vcpu.sleepingTasks(), "task 0 still sleeps on t1");
        assertEquals(TokenFate.State.SUPPRESSED, rig.vcpu.sleepFate(0).state());
        rig.vcpu.run(rig.vcpu.nowNanos() + 10_000_000, Integer.MAX_VALUE);
        assertEquals(1, rig.vcpu.sleepingTasks(), "nothing will wake it but a wake-all");
    }

    @Test
    void fromFiveOhThePendingExceptionHoldsThePageReadyBack() {
        // §2.1 step 4: can_inject requires no pending exception; t1's page-ready follows on a later exit.
        Rig rig = notPresentWithACompletionQueued(HostEra.LEGACY);
        rig.step();
        assertEquals(0, rig.count(Counter.PAGE_READY_SUPPRESSED));
        rig.stepUntil("task 0 woken by t1's page-ready", () -> rig.count(Counter.TASKS_WOKEN) == 1);
        rig.complete(rig.lastStarted());
        rig.stepUntil("task 1 woken by t2's page-ready", () -> rig.count(Counter.TASKS_WOKEN) == 2);
        assertEquals(List.of(), rig.findings);
    }

    /** A kernel fault of a non-PREEMPT legacy guest (no send-always): a synthetic halt, then the completion. */
    private static Rig kernelFaultCompleted(HostEra era) {
        Rig rig = new Rig(TestSettings.matching(era).preempt(false).tasks(1).kernelPages(1).syscalls(1.0, 1, 1.0, 0)
                .tick(1_000_000_000L).build(), 51);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.kernelGfn(0));
        rig.stepUntil("synthetic halt on the kernel fault", () -> rig.vcpu.host().halted());
        assertEquals(0, rig.count(Counter.APF_NOT_PRESENT_INJECTED), "no send-always: nothing injected at CPL0");
        rig.complete(rig.lastStarted());
        rig.stepUntil("the access retired after the completion", () -> rig.at(Routine.SYSCALL, Syscall.ENABLE));
        rig.vcpu.run(rig.vcpu.nowNanos() + 1_000_000, Integer.MAX_VALUE);
        return rig;
    }

    @Test
    void behaviour15_legacyHostBeforeTheFixSendsAStrayPageReadyThatLeavesADummyForever() {
        // §5 behaviour 15 (HL pre-fix with GL), hazard (viii) steps 1-5
        Rig rig = kernelFaultCompleted(HostEra.LEGACY);
        assertEquals(2, rig.count(Counter.APF_PAGE_READY_INJECTED), "the enable's wake-all and the stray page-ready");
        assertEquals(1, rig.sleepers.size(), "the dummy D_t stays in GH");
        assertEquals(1, rig.findingCount(FindingKind.DUMMY_LEAK));
    }

    @Test
    void behaviour15_legacyHostAfterTheFixOnlyEndsTheHalt() {
        // §5 behaviour 15 (HL after the fix): only halted := false, no #PF
        Rig rig = kernelFaultCompleted(HostEra.LEGACY_FIXED);
        assertFalse(rig.vcpu.host().halted());
        assertEquals(1, rig.count(Counter.APF_PAGE_READY_INJECTED), "only the enable's wake-all");
        assertEquals(1, rig.count(Counter.PAGE_READY_SUPPRESSED));
        assertEquals(0, rig.sleepers.size());
        assertEquals(List.of(), rig.findings);
    }

    /**
     * Entry faults at probability one half, over seeds, on guest era {@code guest}: the first
     * async not-present of task 0 and the next few hundred boundaries. Returns the first run
     * whose handler took its nested fault at the given instrumented point: 1, before the reason
     * read (the word is stolen), or 2, between the reason read and read_cr2() (CR2 clobbered).
     */
    private static Rig entryFaultAt(GuestEra guest, int point) {
        for (long seed = 1; seed <= SEEDS; seed++) {
            Rig rig = entryFaultAt(guest, point, -1, seed);
            if (rig != null) {
                return rig;
            }
        }
        fail("no seed gave an entry fault at point " + point);
        return null;
    }

    private static final int SEEDS = 64;

    /**
     * One seed: returns the rig if the not-present's entry code faulted at {@code point} (and
     * only there), else null. With {@code wakeAllAt >= 0} the idle task disables APF at that
     * time with the guest's wake-all, and stepping stops once task 0 sleeps.
     */
    private static Rig entryFaultAt(GuestEra guest, int point, long wakeAllAt, long seed) {
        TestSettings settings = TestSettings.legacy().eras(HostEra.LEGACY, guest).tasks(1).workingSet(4)
                .mappedPages(4).entryFaultProbability(0.5);
        if (wakeAllAt >= 0) {
            settings.apfDisable(wakeAllAt, true, -1);
        }
        Rig rig = new Rig(settings.build(), seed);
        rig.allResident();
        try {
            rig.settleWakeAll();
        } catch (AssertionFailedError e) {
            return null; // an entry fault already hit the enable's wake-all: not the interleaving sought
        }
        rig.evictUser(0);
        Routine pf = guest == GuestEra.LEGACY_EARLY ? Routine.PF_LEGACY_EARLY : Routine.PF_LEGACY;
        rig.stepUntil("the not-present delivered", () -> rig.count(Counter.APF_NOT_PRESENT_INJECTED) == 1
                && rig.atEntry(pf));
        for (int i = 0; i < 300 && !(wakeAllAt >= 0 && rig.vcpu.sleepingTasks() == 1); i++) {
            rig.step(); // with a wake-all to come, stop at the sleep: a halted idle CPU would step to it
        }
        long stolen = rig.findingCount(FindingKind.APF_WORD_STOLEN);
        long clobbered = rig.findingCount(FindingKind.CR2_CLOBBERED);
        return (point == 1 ? stolen == 1 && clobbered == 0 : clobbered == 1 && stolen == 0) ? rig : null;
    }

    @Test
    void behaviour21_aFaultBetweenTheReasonReadAndReadCr2OnA52GuestClobbersCr2() {
        // §5 behaviour 21, §4(i) "Second window": U sleeps on (u32)faultaddr, the page-ready for t makes a dummy.
        Rig rig = entryFaultAt(GuestEra.LEGACY_EARLY, 2);
        List<Finding> clobbered = rig.findingsOf(FindingKind.CR2_CLOBBERED);
        assertEquals(1, clobbered.size(), rig.findings.toString());
        assertTrue(clobbered.get(0).detail().contains("token 0xfff"), clobbered.get(0).detail());
        assertEquals(1, rig.vcpu.sleepingTasks(), "task 0 asleep on the wrong token");
        assertEquals(TokenFate.State.NEVER_ISSUED, rig.vcpu.sleepFate(0).state(),
                "no host ever issued 0xfff: only a wake-all can wake it (its page-ready for t will leave a dummy)");
        assertTrue(rig.vcpu.host().atWorker(0x1000) != null, "t itself is still being paged in");
    }

    @Test
    void behaviour21_thePageReadyForTheRealTokenLeavesADummyAndTheTaskHangsUntilAWakeAll() {
        // §5 behaviour 21, second half: "A page-ready for the real token creates a dummy; the task
        // hangs until wake-all." The wake-all here is the guest's own, at APF disable (§2.1 Disable).
        // Seeds where the page-ready's own entry code faults again are skipped (that clobbers its
        // CR2 to the same wrong token and wakes the task by accident).
        long wakeAllAt = 5_000_000;
        int t = 0x1000;
        for (long seed = 1; seed <= SEEDS; seed++) {
            Rig rig = entryFaultAt(GuestEra.LEGACY_EARLY, 2, wakeAllAt, seed);
            if (rig == null) {
                continue;
            }
            assertEquals(1, rig.vcpu.sleepingTasks(), "task 0 asleep on the wrong token");
            assertTrue(rig.vcpu.nowNanos() < wakeAllAt / 2, "the clobber happened well before the wake-all");
            long pageReadies = rig.count(Counter.APF_PAGE_READY_INJECTED);
            rig.complete(rig.vcpu.host().atWorker(t));
            rig.stepUntil("the page-ready for t delivered", () -> rig.count(Counter.APF_PAGE_READY_INJECTED) > pageReadies
                    && rig.atEntry(Routine.PF_LEGACY_EARLY));
            rig.stepUntil("and handled: the idle CPU halts again, or the task woke",
                    () -> rig.vcpu.cpu().halted() || rig.vcpu.sleepingTasks() == 0);
            if (rig.findings.size() == 1) {
                hangsUntilTheWakeAll(rig, t, wakeAllAt);
                return;
            }
        }
        fail("in " + SEEDS + " seeds no page-ready for t ran without an entry fault of its own");
    }

    private static void hangsUntilTheWakeAll(Rig rig, int t, long wakeAllAt) {
        assertEquals(1, rig.count(Counter.DUMMIES_CREATED), rig.vcpu.lastEvents().toString());
        SleeperNode dummy = rig.sleepers.find(SleeperTable.bucket(t), t);
        assertTrue(dummy != null && dummy.isDummy(), "wake(t) found no waiter and left a dummy for t");
        assertEquals(1, rig.vcpu.sleepingTasks(), "the page-ready did not wake the task");

        rig.stepUntil("just before the wake-all", () -> rig.vcpu.nowNanos() >= wakeAllAt - 100_000);
        assertEquals(1, rig.vcpu.sleepingTasks(), "still asleep on the wrong token, milliseconds later");
        assertTrue(dummy.hashed(), "the dummy is still waiting for a fault on t that never comes");

        rig.stepUntil("the guest's wake-all wakes it", () -> rig.vcpu.sleepingTasks() == 0);
        assertTrue(rig.vcpu.nowNanos() >= wakeAllAt, "only the wake-all woke it");
        rig.stepUntil("the wake-all's walk unlinks the dummy too", () -> !dummy.hashed());
        assertEquals(0, rig.sleepers.size());
        rig.stepUntil("the task back in user code", () -> rig.vcpu.currentTask() == 0 && rig.routine() == Routine.USER);
    }

    @Test
    void behaviour21_onA53GuestCr2IsCapturedFirst_entryFaultsOnlyEverTakeTheReasonWord() {
        // §5 behaviour 21 "GL-b or later shows no hazard": CR2 is read in the entry asm; the only
        // instrumented point left is before the reason read (the first window, §4(i)).
        Rig rig = entryFaultAt(GuestEra.LEGACY, 1);
        assertEquals(0, rig.findingCount(FindingKind.CR2_CLOBBERED));
        assertEquals(1, rig.findingCount(FindingKind.APF_WORD_STOLEN), rig.findings.toString());
        for (long seed = 1; seed <= 64; seed++) {
            Rig other = new Rig(TestSettings.legacy().tasks(1).workingSet(4).mappedPages(4).entryFaultProbability(0.5)
                    .build(), seed);
            other.allResident();
            other.vcpu.run(100_000, Integer.MAX_VALUE);
            other.evictUser(0);
            other.vcpu.run(other.vcpu.nowNanos() + 2_000_000, Integer.MAX_VALUE);
            assertEquals(0, other.findingCount(FindingKind.CR2_CLOBBERED), "seed " + seed);
        }
    }
}
