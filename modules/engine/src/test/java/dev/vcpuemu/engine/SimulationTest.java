package dev.vcpuemu.engine;

import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.Machine;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.LatencyKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole concurrent runs: they end on their own clock, report progress and stop on request
 * with every core busy (DESIGN §3), and conservation holds exactly at the end.
 */
class SimulationTest {

    private static Settings busy(Duration duration) {
        return busy().duration(duration).build();
    }

    private static TestSettings busy() {
        return TestSettings.legacy().vcpus(4).tasks(3).workingSet(64).mappedPages(48)
                .syscalls(0.02, 2, 0.3, 0.2)
                .engine(20_000, 64).hostMemory(2, 0.6, 50).swapIn(50_000)
                .nmiSources(List.of(new Settings.NmiSource("perf", List.of(), 50_000, 0.5, 0.0)));
    }

    @Test
    void runEndsAtItsDurationWithProgressAndConservation() throws Exception {
        List<Progress> progress = new CopyOnWriteArrayList<>();
        Settings s = busy(Duration.ofSeconds(2));
        RunResult r = Simulation.run(s, ConfigFactory.load(),
                RunControl.wallClock(s.run().duration(), s.run().progressInterval()), progress::add);

        assertEquals("duration", r.endReason());
        assertTrue(r.conservation().held(), r.conservation().detail());
        assertTrue(r.counters().get("microOps") > 0);
        assertTrue(r.counters().get("apfNotPresentInjected") > 0, "host overcommit produces async faults");
        assertTrue(r.counters().get("nmisDelivered") > 0);
        assertTrue(r.simulatedNanos() > 0);
        assertTrue(r.findings().isEmpty(), "NMIs that never read user memory cannot steal the APF word: " + r.findingExamples());
        assertTrue(progress.size() >= 2, "progress is reported while every core is busy, and at the end");
        Progress last = progress.get(progress.size() - 1);
        assertEquals(r.counters(), last.counters(), "the last sample is the run's end: the report's counters, every one");
        assertEquals(r.simulatedNanos(), last.simulatedNanos());
        long latencies = progress.stream().mapToLong(p -> p.intervalLatencies().get(LatencyKind.SWAP_IN).getTotalCount()).sum();
        assertEquals(r.latencies().get(LatencyKind.SWAP_IN.key).count(), latencies, "the samples' latencies add up to the run's");
    }

    @Test
    void anUnsetParallelismIsChosenFromTheWorkOfAQuantumWithinTheCores() {
        long per = Simulation.STEPS_PER_THREAD;
        assertEquals(3, Simulation.threads(3, 1, 2), "a parallelism that is set is taken as it is");
        assertEquals(1, Simulation.threads(0, 0, 2));
        assertEquals(1, Simulation.threads(0, 2 * per - 1, 8));
        assertEquals(2, Simulation.threads(0, 2 * per, 8));
        assertEquals(2, Simulation.threads(0, 1000 * per, 2), "never more than the cores");
        // From the settings: a quantum of 20 us at 10 ns per micro-op (these test settings) is 2,000
        // steps of one micro-op per vCPU, 31 of 64 micro-ops.
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(Math.min(cores, 4), Simulation.threads(TestSettings.legacy().vcpus(64).engine(20_000, 1).build()),
                "64 x 2,000 steps: four threads, or as many as there are cores");
        assertEquals(1, Simulation.threads(TestSettings.legacy().vcpus(64).engine(20_000, 64).build()),
                "64 x 31 steps: one thread");
        assertEquals(1, Simulation.threads(TestSettings.legacy().vcpus(64).engine(20_000, 1).parallelism(1).build()));
    }

    @Test
    void theBarrierIsMeasuredOnlyWhenAskedAndAccountsForTheQuantaItSaw() throws Exception {
        Settings s = busy(Duration.ofMillis(500));
        RunControl plain = RunControl.wallClock(s.run().duration(), s.run().progressInterval());
        Simulation.run(s, ConfigFactory.load(), plain, p -> { });
        assertEquals(null, plain.barrier(), "no wall clock read per answer unless asked");

        RunControl measured = RunControl.wallClock(s.run().duration(), s.run().progressInterval()).measureBarrier();
        RunResult r = Simulation.run(s, ConfigFactory.load(), measured, p -> { });
        RunControl.Barrier b = measured.barrier();
        assertTrue(b.quanta() > 0);
        // Quanta are 20 us of virtual time; time jumps over empty ones, so at most this many opened.
        assertTrue(b.quanta() <= r.simulatedNanos() / 20_000 + 1, b + " for " + r.simulatedNanos() + " ns");
        assertEquals(Simulation.threads(s), b.threads());
        assertTrue(b.quantumNanos() > 0 && b.waitNanos() >= 0 && b.primingNanos() >= 0, b.toString());
        assertTrue(b.waitNanos() <= b.quantumNanos(), "the wait is part of the quanta: " + b);
        assertTrue((b.quantumNanos() + b.primingNanos()) / 1e9 <= r.wallSeconds() + 0.05,
                "the quanta's wall time fits in the run's: " + b + " in " + r.wallSeconds() + " s");
    }

    /**
     * What {@code bench --settle} relies on: the barrier restarted at a progress sample counts
     * only the quanta after it, and the run since that sample is the whole run less the sample.
     */
    @Test
    void aRestartedBarrierAndTheRunSinceASampleCountOnlyWhatFollowsIt() throws Exception {
        Settings s = busy(Duration.ofMillis(700));
        RunControl control = RunControl.wallClock(s.run().duration(), s.run().progressInterval()).measureBarrier();
        java.util.concurrent.atomic.AtomicReference<Progress> first = new java.util.concurrent.atomic.AtomicReference<>();
        RunResult r = Simulation.run(s, ConfigFactory.load(), control, p -> {
            if (first.compareAndSet(null, p)) {
                control.restartBarrier();
            }
        });
        Progress from = first.get();
        assertTrue(from != null && from.simulatedNanos() > 0, "a sample came: " + from);
        RunControl.Barrier b = control.barrier();
        assertTrue(b.quanta() > 0, b.toString());
        // Quanta are 20 us of virtual time: no more opened after the sample than fit after it.
        assertTrue(b.quanta() <= (r.simulatedNanos() - from.simulatedNanos()) / 20_000 + 1,
                b + " after " + from.simulatedNanos() + " of " + r.simulatedNanos() + " ns");

        RunResult since = r.since(from);
        assertEquals(r.simulatedNanos() - from.simulatedNanos(), since.simulatedNanos());
        assertEquals(r.wallSeconds() - from.wallSeconds(), since.wallSeconds(), 1e-9);
        long microOps = r.counters().get("microOps");
        assertTrue(from.counters().get("microOps") > 0 && from.counters().get("microOps") < microOps);
        assertEquals(microOps - from.counters().get("microOps"), since.counters().get("microOps"));
        assertEquals(r.conservation(), since.conservation());
    }

    @Test
    void stopRequestFromAnotherThreadEndsASaturatedRun() throws Exception {
        Settings s = busy(Duration.ofMinutes(10));
        RunControl control = RunControl.wallClock(s.run().duration(), s.run().progressInterval());
        RunResult r = Simulation.run(s, ConfigFactory.load(), control, p -> control.requestStop());

        assertEquals("stopped", r.endReason());
        assertTrue(r.conservation().held(), r.conservation().detail());
        assertTrue(r.wallSeconds() < 600);
    }

    /**
     * DESIGN §1.6: an exception in an actor ends the run at once as an emulator fault, never a
     * hang; and the run's actors stop with it. On one thread this once hung for the run's whole
     * duration: the collector's stop waited for a message from another dispatcher, which a
     * saturated ForkJoinPool worker never takes (it runs the tasks it forked itself first).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void anExceptionInAnActorEndsTheRunWithTheFault(int threads) throws Exception {
        Settings s = busy().parallelism(threads).duration(Duration.ofMinutes(10)).build();
        RunControl control = RunControl.wallClock(s.run().duration(), Duration.ofMillis(100));
        // The progress consumer runs inside the stats collector: make it throw there.
        RunResult r = Simulation.run(s, ConfigFactory.load(), control, p -> {
            throw new IllegalStateException("progress consumer broke");
        });
        assertEquals(RunResult.FAULT, r.endReason());
        assertEquals("stats", r.fault().actor());
        assertEquals("java.lang.IllegalStateException: progress consumer broke", r.fault().error());
        assertTrue(r.fault().stackTrace().stream().anyMatch(l -> l.contains("StatsCollector.onProgressSample")),
                r.fault().stackTrace().toString());
        assertTrue(r.wallSeconds() < 60, "ended at the fault, not at its ten-minute duration");
        // Simulation.run waits 10 s at most for the actor system to terminate, then returns anyway:
        // a simulation still running after its fault would leave its dispatcher's threads spinning.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (simulationThreads() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, simulationThreads(), "the simulation's threads ended with its actor system");
    }

    private static long simulationThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().contains(Machine.DISPATCHER)).count();
    }
}
