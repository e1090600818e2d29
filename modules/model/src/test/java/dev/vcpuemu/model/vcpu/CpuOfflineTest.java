package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.program.ApfDisable;
import dev.vcpuemu.model.guest.program.AsyncPfWake;
import dev.vcpuemu.model.guest.program.Boot;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.truth.TokenFate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest disables APF during a run, as at CPU offline, step by step (reference §4(v)
 * "Interleaving: CPU offline (correct)" and its "Without step 2", §2.5, §4(v) "Protocol
 * guarantees" for the re-enable). One task per vCPU, so the idle task, where the disable runs,
 * only runs while that task sleeps on its token: the disable always finds a sleeper.
 */
class CpuOfflineTest {
    private static final long DISABLE_AT = 1_500_000;
    private static final long TICK = 1_000_000;

    /** The moment of the WRMSR EN=0 and the work item of the token the task sleeps on. */
    private record Offline(Rig rig, WorkItem work, long disabledAt) {}

    private static TestSettings settings(HostEra era) {
        return TestSettings.matching(era)
                .tasks(1).workingSet(4).mappedPages(4).tick(TICK).hungTaskTimeout(5_000_000);
    }

    /**
     * Row 0: task 0 sleeps on t = 0x1000, its work item at the (scripted) paging worker. Then
     * runs to the disable's WRMSR EN = 0 and checks row 1 exactly.
     */
    private static Offline toTheDisable(TestSettings s) {
        Rig rig = new Rig(s.build(), 3);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep on an async #PF", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem w = rig.lastStarted();
        assertEquals(0x1000, w.token());
        assertEquals(TokenFate.of(TokenFate.State.AT_WORKER, w.issuedAtNanos()), rig.vcpu.sleepFate(0));
        assertTrue(rig.vcpu.nowNanos() < DISABLE_AT);

        rig.stepUntil("the idle task enters the disable", () -> rig.at(Routine.APF_DISABLE, ApfDisable.WRMSR));
        // The reschedule IPI of the hotplug thread ended the idle HLT at the due time itself:
        // IRQ delivery, handler, irq_exit, IRET, CLI, run-queue check (6 boundaries of 10 ns).
        assertEquals(DISABLE_AT + 60, rig.vcpu.nowNanos());
        assertEquals(-1, rig.vcpu.currentTask(), "run by the idle task");
        assertFalse(rig.vcpu.cpu().interruptFlag(), "with IRQs off");
        assertTrue(rig.vcpu.host().enabled() && rig.vcpu.kernel().apfEnabled());

        rig.step();
        long disabledAt = rig.vcpu.nowNanos() - 10;
        assertFalse(rig.vcpu.host().enabled(), "WRMSR EN = 0 reached the host");
        assertTrue(rig.vcpu.kernel().apfEnabled(), "apf_reason.enabled is cleared by the next instruction");
        assertEquals(0, rig.vcpu.host().queued(), "the host's queue is flushed (§2.5)");
        assertFalse(rig.vcpu.host().outstanding(w.gfn()));
        assertEquals(TokenFate.of(TokenFate.State.FLUSHED, disabledAt), rig.vcpu.sleepFate(0));
        rig.step();
        assertFalse(rig.vcpu.kernel().apfEnabled());
        return new Offline(rig, w, disabledAt);
    }

    /** Runs as the engine does, to a quantum end, so that a halted vCPU takes its HLT exit. */
    private static void runTo(Rig rig, long limit) {
        rig.vcpu.run(limit, Integer.MAX_VALUE);
        assertEquals(limit, rig.vcpu.nowNanos());
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour24_offlineWithItsWakeAllWakesTheSleeperWhoseRetryIsSynthetic(HostEra era) {
        // reference §4(v) "CPU offline (correct)" rows 2-3, §2.5 (can_do_async_pf: synthetic halt)
        Offline o = toTheDisable(settings(era).apfDisable(DISABLE_AT, true, -1));
        Rig rig = o.rig;
        rig.step();
        assertTrue(rig.at(Routine.WAKE, AsyncPfWake.LOCK), "apf_task_wake_all()");
        rig.stepUntil("the wake-all walked every bucket", () -> rig.at(Routine.APF_DISABLE, ApfDisable.RETURN));
        assertEquals(0, rig.vcpu.sleepingTasks(), "N_t unhashed and T runnable");
        assertEquals(0, rig.sleepers.size());
        assertEquals(1, rig.count(Counter.TASKS_SLEPT));
        assertNull(rig.vcpu.sleepFate(0));

        long notPresent = rig.count(Counter.APF_NOT_PRESENT_INJECTED);
        rig.stepUntil("the retried access finds the page still out", () -> rig.count(Counter.SYNTHETIC_HALTS) == 1);
        assertEquals(2, rig.started.size());
        WorkItem again = rig.lastStarted();
        assertEquals(o.work.gfn(), again.gfn(), "the same page, asked for again");
        assertEquals(0x2000, again.token(), "a token is still taken for the host's own async work");
        assertFalse(again.notPresentInjected(), "but no not-present is sent: APF is off");
        assertEquals(notPresent, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertTrue(rig.vcpu.host().halted(), "synthetic halt");
        assertEquals(0, rig.vcpu.currentTask());
        assertTrue(rig.vcpu.quiescent(), "halted, with nothing done and nothing deliverable");

        rig.complete(again);
        rig.step();
        assertFalse(rig.vcpu.host().halted(), "the completion ended the halt");
        assertEquals(1, rig.count(Counter.PAGE_READY_SUPPRESSED), "and sent nothing to the guest");
        rig.stepUntil("the access retired", () -> rig.vcpu.currentTask() == 0 && !rig.at(Routine.USER, UserLoop.ACCESS));
        rig.complete(o.work);
        rig.steps(5);
        assertEquals(1, rig.vcpu.host().flushed(), "the flushed generation's completion is dropped");
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(List.of(), rig.findings);
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour24_offlineWithoutItsWakeAllLosesTheSleeperForever(HostEra era) {
        // reference §4(v) "Without step 2, N_t stays forever and T sits in D state forever"
        Offline o = toTheDisable(settings(era).apfDisable(DISABLE_AT, false, -1));
        Rig rig = o.rig;
        rig.step();
        assertTrue(rig.at(Routine.APF_DISABLE, ApfDisable.RETURN), "no wake-all");
        runTo(rig, 1_900_000);
        assertTrue(rig.vcpu.cpu().halted());
        assertEquals(-1, rig.vcpu.currentTask());
        assertTrue(rig.vcpu.quiescent(), "HLT in idle, nothing queued: only outside input could change anything");
        assertEquals(2 * TICK, rig.vcpu.nextDueNanos(), "only the periodic tick, which quiescence ignores");

        // The worker finishes the flushed item: an input, handled, and nothing comes of it.
        rig.complete(o.work);
        assertFalse(rig.vcpu.quiescent(), "a completion is queued");
        assertEquals(1_900_000, rig.vcpu.nextDueNanos());
        runTo(rig, 1_950_000);
        assertTrue(rig.vcpu.quiescent());
        assertEquals(1, rig.vcpu.host().flushed());
        assertEquals(1, rig.vcpu.sleepingTasks());
        assertEquals(1, rig.sleepers.size(), "N_t stays");
        assertEquals(TokenFate.of(TokenFate.State.FLUSHED, o.disabledAt), rig.vcpu.sleepFate(0));

        rig.vcpu.reportLostWakeups();
        String fate = "flushed when the guest disabled APF at " + TokenFate.millis(o.disabledAt) + " (§4(v))";
        assertEquals("flushed when the guest disabled APF at 1.500 ms (§4(v))", fate);
        assertEquals(List.of("quiescent: task 0 of vCPU 0 sleeps on token 0x1000 forever: " + fate
                + "; nothing will wake it"), details(rig, FindingKind.LOST_WAKEUP));

        // The hung-task watchdog names the same fate.
        runTo(rig, 8 * TICK);
        assertEquals(List.of("task 0 blocked for more than 5 ms waiting on token 0x1000: " + fate),
                details(rig, FindingKind.HUNG_TASK));
        assertEquals(List.of(FindingKind.LOST_WAKEUP, FindingKind.HUNG_TASK),
                rig.findings.stream().map(Finding::kind).toList());
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void reEnablingRescuesTheSleeperThroughTheHostsWakeAll(HostEra era) {
        // reference §4(v) "Protocol guarantees": on every enable the host queues wake-all (~0)
        Offline o = toTheDisable(settings(era).apfDisable(DISABLE_AT, false, 1_000_000));
        Rig rig = o.rig;
        long reenableAt = rig.vcpu.nowNanos() + 1_000_000;
        rig.step();
        assertTrue(rig.at(Routine.APF_DISABLE, ApfDisable.RETURN), "no wake-all at the disable");
        runTo(rig, 1_900_000);
        assertFalse(rig.vcpu.quiescent(), "the re-enable is still to come");
        assertEquals(2 * TICK, rig.vcpu.nextDueNanos(), "the tick comes first");
        runTo(rig, 2_100_000);
        assertEquals(reenableAt, rig.vcpu.nextDueNanos(), "then the re-enable");
        assertEquals(1, rig.vcpu.sleepingTasks());

        long wakeAlls = rig.count(Counter.WAKE_ALLS);
        rig.stepUntil("the idle task enters the bring-up MSR writes again", () -> rig.at(Routine.BOOT, Boot.CPUID));
        assertEquals(reenableAt + 60, rig.vcpu.nowNanos());
        rig.stepUntil("WRMSR EN reached the host", () -> rig.vcpu.host().enabled());
        assertEquals(1, rig.vcpu.host().queued(), "the host queued its wake-all");
        assertFalse(rig.vcpu.kernel().apfEnabled(), "apf_reason.enabled is set by the next instruction");
        rig.step();
        assertTrue(rig.vcpu.kernel().apfEnabled());
        rig.stepUntil("the wake-all woke the sleeper", () -> rig.vcpu.sleepingTasks() == 0);
        assertEquals(wakeAlls + 1, rig.count(Counter.WAKE_ALLS));
        assertEquals(0, rig.sleepers.size());

        // T retries: APF is on again, so a new async #PF with a new token (row 5 of the migration table).
        rig.stepUntil("task 0 asleep on its new token", () -> rig.started.size() == 2 && rig.vcpu.sleepingTasks() == 1);
        WorkItem again = rig.lastStarted();
        assertEquals(0x2000, again.token());
        assertTrue(again.notPresentInjected());
        assertEquals(TokenFate.of(TokenFate.State.AT_WORKER, again.issuedAtNanos()), rig.vcpu.sleepFate(0));
        rig.complete(again);
        rig.stepUntil("woken by its page-ready", () -> rig.vcpu.sleepingTasks() == 0);
        rig.complete(o.work);
        rig.steps(5);
        assertEquals(1, rig.vcpu.host().flushed());
        assertEquals(2, rig.count(Counter.APF_NOT_PRESENT_INJECTED));
        assertEquals(List.of(), rig.findings);
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void aGuestWithoutApfOnlyRunsTheWakeAll(HostEra era) {
        // kvm_pv_disable_apf() does nothing when APF was never enabled; apf_task_wake_all() still runs.
        // Due at once: the one task never sleeps without APF, so only the idle loop at boot runs it.
        Rig rig = new Rig(settings(era).asyncPf(false).apfDisable(1, true, -1).build(), 3);
        List<TraceEvent> events = new ArrayList<>();
        rig.vcpu.eventSink((cpu, at, what, arg) -> events.add(what));
        rig.allResident();
        rig.stepUntil("the idle task enters the disable", () -> rig.at(Routine.APF_DISABLE, ApfDisable.WRMSR));
        rig.step();
        assertTrue(rig.at(Routine.APF_DISABLE, ApfDisable.WAKE_ALL), "no WRMSR");
        rig.step();
        assertTrue(rig.at(Routine.WAKE, AsyncPfWake.LOCK));
        assertFalse(events.contains(TraceEvent.GUEST_DISABLES_APF));
        assertEquals(0, rig.vcpu.host().flushed());
        assertEquals(List.of(), rig.findings);
    }

    static List<String> details(Rig rig, FindingKind kind) {
        return rig.findingsOf(kind).stream().map(Finding::detail).toList();
    }
}
