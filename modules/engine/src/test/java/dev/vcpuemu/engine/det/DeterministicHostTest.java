package dev.vcpuemu.engine.det;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.DeterministicHost;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Explore's reuse of one actor system for many deterministic runs: a run in a used host is the
 * run alone, bit for bit (trace hash, model hash, steps, counters, recorded schedule), whatever
 * ran before it, a step-budget cut-off and a run ended by a finding included.
 */
class DeterministicHostTest {
    private static final Config CONFIG = ConfigFactory.load();

    private static Settings busy(long seed) {
        return TestSettings.legacy().vcpus(4).tasks(3).workingSet(64).mappedPages(48)
                .syscalls(0.02, 2, 0.3, 0.2)
                .engine(20_000, 64).hostMemory(2, 0.6, 50).swapIn(50_000)
                .nmiSources(List.of(new Settings.NmiSource("perf", List.of(), 50_000, 0.5, 0.3)))
                .duration(Duration.ofMillis(2)).seed(seed).build();
    }

    private static RunControl control(Settings s, long steps) {
        RunControl c = RunControl.virtualTime(s.run().duration(), s.run().duration().dividedBy(10));
        return steps > 0 ? c.stepBudget(steps) : c;
    }

    @Test
    void aHostOutlivesItsDispatchersIdleShutdown() throws Exception {
        // Pekko shuts a dispatcher's executor down after shutdown-timeout without actors and asks
        // for a new one when an actor comes back: the host's one thread must survive that pause.
        Config quickShutdown = ConfigFactory.parseString(
                "vcpu-emu-engine.sim-dispatcher.shutdown-timeout = 20ms").withFallback(CONFIG);
        Settings s = busy(3);
        try (DeterministicHost host = new DeterministicHost(s, quickShutdown, false)) {
            RunResult first = host.run(s, control(s, 0), null, Strategy.uniform(3), null, null);
            Thread.sleep(300);
            // Bounded: without its thread the host would wait for it forever.
            RunResult second = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> host.run(s, control(s, 0), null, Strategy.uniform(3), null, null));
            assertEquals(first.traceHash(), second.traceHash());
        }
    }

    @Test
    void aRunInAReusedHostIsTheRunAlone() throws Exception {
        long[] seeds = {3, 4, 3, 5};
        long[] budgets = {0, 5_000, 0, 0};
        try (DeterministicHost host = new DeterministicHost(busy(1), CONFIG, false)) {
            for (int i = 0; i < seeds.length; i++) {
                Settings s = busy(seeds[i]);
                Schedule aloneChoices = new Schedule();
                Schedule hostChoices = new Schedule();
                RunResult alone = Simulation.runDeterministic(s, CONFIG, control(s, budgets[i]), p -> { },
                        Strategy.uniform(seeds[i]), aloneChoices, null);
                // Without a progress consumer, as explore runs: samples are still sent, just not read.
                RunResult reused = host.run(s, control(s, budgets[i]), null, Strategy.uniform(seeds[i]), hostChoices,
                        null);
                String what = "run " + i + " (seed " + seeds[i] + ")";
                assertEquals(alone.traceHash(), reused.traceHash(), what);
                assertEquals(alone.modelHash(), reused.modelHash(), what);
                assertEquals(alone.schedulingSteps(), reused.schedulingSteps(), what);
                assertEquals(alone.counters(), reused.counters(), what);
                assertEquals(alone.endReason(), reused.endReason(), what);
                assertEquals(alone.latencies(), reused.latencies(), what + ": latencies taken once equal their intervals' sum");
                assertEquals(aloneChoices.size(), hostChoices.size(), what);
            }
        }
    }

    @Test
    void differentSeedsStillDiffer() throws Exception {
        try (DeterministicHost host = new DeterministicHost(busy(1), CONFIG, false)) {
            Settings a = busy(8);
            Settings b = busy(9);
            RunResult ra = host.run(a, control(a, 0), p -> { }, Strategy.uniform(8), null, null);
            RunResult rb = host.run(b, control(b, 0), p -> { }, Strategy.uniform(9), null, null);
            assertNotEquals(ra.traceHash(), rb.traceHash(), "the host does not replay its previous run");
        }
    }
}
