package dev.vcpuemu.engine.det;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.timeline.Timeline;
import dev.vcpuemu.engine.timeline.TrackSinks;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deterministic engine (DESIGN §3): the concurrent engine's actors on one seeded thread.
 * Same settings, seed and strategy give the same trace hash; recorded choices replay a run
 * without the generator; the run is bounded in simulated time, by steps or by a finding.
 */
class DeterministicEngineTest {
    private static final Config CONFIG = ConfigFactory.load();

    /** Four vCPUs under overcommit and an NMI load that never reads user memory. */
    private static Settings busy(long seed) {
        return TestSettings.legacy().vcpus(4).tasks(3).workingSet(64).mappedPages(48)
                .syscalls(0.02, 2, 0.3, 0.2)
                .engine(20_000, 64).hostMemory(2, 0.6, 50).swapIn(50_000)
                .nmiSources(List.of(new Settings.NmiSource("perf", List.of(), 50_000, 0.5, 0.0)))
                .duration(Duration.ofMillis(2)).seed(seed).build();
    }

    private static RunResult run(Settings s, Strategy strategy, Schedule record) throws InterruptedException {
        RunControl control = RunControl.virtualTime(s.run().duration(), s.run().duration());
        return Simulation.runDeterministic(s, CONFIG, control, p -> { }, strategy, record, null);
    }

    @Test
    void oneSeedOneHashAndTheDurationIsSimulatedTime() throws Exception {
        Set<String> hashes = new HashSet<>();
        RunResult first = null;
        for (int i = 0; i < 3; i++) {
            RunResult r = run(busy(7), Strategy.uniform(7), null);
            hashes.add(r.traceHash());
            first = first == null ? r : first;
            assertEquals(first.counters(), r.counters(), "the same run counts the same events");
            assertEquals(first.schedulingSteps(), r.schedulingSteps());
        }
        assertEquals(1, hashes.size(), "one seed, one trace: " + hashes);
        assertEquals(RunControl.DURATION, first.endReason());
        assertEquals(2_000_000, first.simulatedNanos(), "ends at the first quantum boundary at or past 2 ms simulated");
        assertTrue(first.counters().get("apfNotPresentInjected") > 0, "the run did real work");
        assertTrue(first.conservation().held(), first.conservation().detail());
    }

    @Test
    void differentSeedsGiveDifferentHashes() throws Exception {
        Set<String> hashes = new HashSet<>();
        for (long seed = 1; seed <= 4; seed++) {
            hashes.add(run(busy(seed), Strategy.uniform(seed), null).traceHash());
        }
        assertEquals(4, hashes.size());
    }

    @Test
    void theScheduleAloneDecidesTheInterleaving() throws Exception {
        // Same model seed, two schedule generators: the mailbox order alone changes the trace.
        String a = run(busy(3), Strategy.uniform(100), null).traceHash();
        String b = run(busy(3), Strategy.uniform(200), null).traceHash();
        assertNotEquals(a, b, "where NMIs and completions land among the micro-ops depends on the schedule");
    }

    @Test
    void recordedChoicesReplayTheRunWithoutTheGenerator() throws Exception {
        Schedule recorded = new Schedule();
        RunResult original = run(busy(5), Strategy.pct(5, 3, 20_000), recorded);
        assertEquals(original.schedulingSteps(), recorded.size(), "every step's choice is recorded");

        Path file = Files.createTempFile("schedule", ".gz");
        try {
            recorded.write(file);
            Schedule read = Schedule.read(file);
            assertEquals(recorded.size(), read.size());
            Strategy.Replay replay = Strategy.replay(read);
            RunResult replayed = run(busy(5), replay, null);
            assertEquals(original.traceHash(), replayed.traceHash());
            assertEquals(original.counters(), replayed.counters());
            assertNull(replay.divergence(), "the run's own schedule fits it at every step");

            // The same choices cut short: the run goes on past them, and says where they ran out.
            Strategy.Replay cut = Strategy.replay(Schedule.of(Arrays.copyOf(read.toArray(), 100)));
            run(busy(5), cut, null);
            Divergence d = cut.divergence();
            assertEquals(Divergence.Kind.SCHEDULE_EXHAUSTED, d.kind(), d.describe());
            assertEquals(101, d.step(), "the first step without a recorded choice");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aStepBudgetEndsTheRun() throws Exception {
        Settings s = busy(9);
        RunControl control = RunControl.virtualTime(s.run().duration(), s.run().duration()).stepBudget(1_000);
        RunResult r = Simulation.runDeterministic(s, CONFIG, control, p -> { }, Strategy.uniform(9), null, null);
        assertEquals(RunControl.STEP_BUDGET, r.endReason());
        assertTrue(r.schedulingSteps() >= 1_000 && r.simulatedNanos() < 2_000_000, r.schedulingSteps() + " steps");
        assertTrue(r.conservation().held(), r.conservation().detail());
    }

    @Test
    void aChosenFindingEndsTheRunAtTheNextBoundary() throws Exception {
        // The legacy NMI storm of conf/scenarios/hazard-i-nmi-window.conf: NMI handlers that read user memory.
        Settings s = TestSettings.legacy().vcpus(2).tasks(3).workingSet(256).mappedPages(64)
                .nmiSources(List.of(new Settings.NmiSource("perf", List.of(), 10_000, 0.5, 0.8)))
                .duration(Duration.ofMillis(200)).seed(11).build();
        RunControl control = RunControl.virtualTime(s.run().duration(), s.run().duration())
                .stopOnFinding(k -> k == FindingKind.APF_WORD_STOLEN);
        RunResult r = Simulation.runDeterministic(s, CONFIG, control, p -> { }, Strategy.uniform(11), null, null);
        assertEquals(RunControl.FINDING_PREFIX + "APF_WORD_STOLEN", r.endReason());
        long at = r.findingExamples().stream().filter(f -> f.kind() == FindingKind.APF_WORD_STOLEN)
                .findFirst().orElseThrow().atNanos();
        assertTrue(r.simulatedNanos() - at <= s.engine().quantumNanos() + s.engine().opCostNanos() * s.engine().microOpsPerStep(),
                "stopped within a quantum of the finding: at " + at + ", ended " + r.simulatedNanos());
    }

    @Test
    void aGuestThatDisablesApfWithoutItsWakeAllEndsQuiescentWithTheLostTask() throws Exception {
        // reference §4(v) "CPU offline" without step 2: the host flushed, nothing will wake the task.
        Settings s = TestSettings.interrupt().tasks(1).workingSet(64).mappedPages(64).hostMemory(1, 0.3, 5)
                .engine(20_000, 64).apfDisable(2_000_000, false, -1).duration(Duration.ofMillis(200)).seed(4).build();
        RunResult r = run(s, Strategy.uniform(4), null);
        assertEquals(RunControl.QUIESCENT, r.endReason());
        assertTrue(r.simulatedNanos() < 200_000_000, "ended long before its duration: " + r.simulatedNanos());
        assertEquals(1L, r.findings().get(FindingKind.LOST_WAKEUP), r.findings().toString());
        String detail = r.findingExamples().get(0).detail();
        assertTrue(detail.contains("task 0 of vCPU 0") && detail.contains("disabled APF"), detail);
        assertTrue(r.conservation().held(), r.conservation().detail());
    }

    @Test
    void withTheWakeAllTheSameGuestRunsToItsDuration() throws Exception {
        Settings s = TestSettings.interrupt().tasks(1).workingSet(64).mappedPages(64).hostMemory(1, 0.3, 5)
                .engine(20_000, 64).apfDisable(2_000_000, true, -1).duration(Duration.ofMillis(20)).seed(4).build();
        RunResult r = run(s, Strategy.uniform(4), null);
        assertEquals(RunControl.DURATION, r.endReason());
        assertTrue(r.findings().isEmpty(), r.findings().toString());
    }

    @Test
    void guestsAreIndependentCopiesOfTheTopologyOnOneHost() throws Exception {
        // Interrupt era under overcommit, no NMIs: clean on one guest. Two guests issue the same
        // token values on the same vCPU ids; only separate sleeper tables and memories keep that clean.
        Settings one = TestSettings.interrupt().vcpus(2).tasks(2).workingSet(64).mappedPages(48)
                .engine(20_000, 64).hostMemory(2, 0.5, 50).swapIn(50_000).duration(Duration.ofMillis(5)).seed(9).build();
        Settings two = TestSettings.interrupt().guests(2).vcpus(2).tasks(2).workingSet(64).mappedPages(48)
                .engine(20_000, 64).hostMemory(2, 0.5, 50).swapIn(50_000).duration(Duration.ofMillis(5)).seed(9).build();
        Timeline timeline = new Timeline(2, 2, two.host().pagingWorkers(), 1_000_000);
        RunControl control = RunControl.virtualTime(two.run().duration(), two.run().duration());
        RunResult r = Simulation.runDeterministic(two, CONFIG, control, p -> { }, Strategy.uniform(9), null, timeline);
        RunResult single = run(one, Strategy.uniform(9), null);

        for (Timeline.Track t : timeline.tracks()) {
            assertTrue(t.written() > 0, "every vCPU and worker of both guests has its own track: " + t.owner()
                    + " " + t.index() + " of guest " + t.guest());
        }
        assertTrue(r.findings().isEmpty(), r.findings().toString());
        assertTrue(r.conservation().held(), r.conservation().detail());
        assertEquals(RunControl.DURATION, r.endReason());
        long ops = r.counters().get("microOps");
        long singleOps = single.counters().get("microOps");
        assertTrue(ops > 1.8 * singleOps && ops < 2.2 * singleOps, ops + " micro-ops on two guests, " + singleOps + " on one");
        assertTrue(r.counters().get("apfNotPresentInjected") > 0, "both guests fault under overcommit");
    }

    /** Sinks called from inside the models; vCPU 0's throws at its 50th event. */
    private static TrackSinks throwingAtTheFiftiethEvent() {
        return new TrackSinks() {
            @Override
            public EventSink vcpu(int guest, int vcpu) {
                int[] seen = {0};
                return (v, at, what, arg) -> {
                    if (vcpu == 0 && ++seen[0] == 50) {
                        throw new ArithmeticException("sink broke at " + what);
                    }
                };
            }

            @Override
            public EventSink worker(int guest, int worker) {
                return null;
            }
        };
    }

    @Test
    void anExceptionInAVcpuModelEndsTheRunWithItsLastEvents() throws Exception {
        Settings s = busy(5);
        RunResult r = Simulation.runDeterministic(s, CONFIG,
                RunControl.virtualTime(s.run().duration(), s.run().duration()), p -> { }, Strategy.uniform(5), null,
                throwingAtTheFiftiethEvent());
        assertEquals(RunResult.FAULT, r.endReason());
        assertEquals("vcpu-0", r.fault().actor());
        assertTrue(r.fault().error().startsWith("java.lang.ArithmeticException: sink broke at "), r.fault().error());
        assertTrue(r.fault().lastEvents().size() >= 10, "the vCPU's last events: " + r.fault().lastEvents());
        assertTrue(r.fault().stackTrace().stream().anyMatch(l -> l.contains("Vcpu.")), r.fault().stackTrace().toString());
        // Repeated: the stopped vCPU's mail becomes dead letters, which Pekko publishes from another
        // thread at a wall-clock moment; once a simulation actor received them and about one run in
        // ten traced differently.
        for (int i = 0; i < 20; i++) {
            RunResult again = Simulation.runDeterministic(s, CONFIG,
                    RunControl.virtualTime(s.run().duration(), s.run().duration()), p -> { }, Strategy.uniform(5), null,
                    throwingAtTheFiftiethEvent());
            assertEquals(r.traceHash(), again.traceHash(), "a deterministic fault is reproducible: the same trace, run " + i);
            assertEquals(r.schedulingSteps(), again.schedulingSteps());
            assertEquals(r.fault().lastEvents(), again.fault().lastEvents());
        }
    }

    @Test
    void everyVcpuAccountsForAllOfItsSimulatedTime() throws Exception {
        Settings s = busy(13);
        RunResult r = run(s, Strategy.uniform(13), null);
        assertEquals(s.topology().vcpus(), r.vcpuTimes().size());
        for (RunResult.VcpuTimes t : r.vcpuTimes()) {
            assertEquals(r.simulatedNanos(), java.util.Arrays.stream(t.nanos()).sum(), "vCPU " + t.vcpu());
            assertTrue(t.get(dev.vcpuemu.model.stats.VcpuTime.HANDLER) > 0, "vCPU " + t.vcpu() + " ran handlers");
        }
    }

    @Test
    void latenciesAgreeWithTheCountersAndTheSwapInLatency() throws Exception {
        RunResult r = run(busy(11), Strategy.uniform(11), null);
        var c = r.counters();
        var swapIn = r.latencies().get("swapIn");
        assertEquals(c.get("workItemsSent"), swapIn.count(), "one service time per work item a worker took");
        // A fixed 50 us swap-in: every percentile is that value, to HdrHistogram's 2 significant digits.
        assertTrue(Math.abs(swapIn.p50() - 50_000) <= 500 && Math.abs(swapIn.max() - 50_000) <= 500, swapIn.toString());
        var wait = r.latencies().get("taskSleep");
        assertEquals(c.get("tasksWoken"), wait.count(), "one wait time per task woken");
        var ready = r.latencies().get("notPresentToPageReady");
        assertTrue(ready.count() > 0 && ready.count() <= c.get("apfPageReadyInjected") - c.get("wakeAlls"), ready.toString());
        assertTrue(ready.p50() >= 49_500, "no page is ready before its swap-in: " + ready);
        assertTrue(r.latencies().get("nmiHandler").count() > 0, "the NMI source's handlers ran");
    }
}
