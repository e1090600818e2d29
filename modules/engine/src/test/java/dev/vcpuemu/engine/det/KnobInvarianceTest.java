package dev.vcpuemu.engine.det;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rule of time (DESIGN §3), as a metamorphic test: with one vCPU every input has lookahead
 * (NMIs, completions, evictions, the vCPU's own timers), so the quantum, the micro-ops per step
 * and the mailbox throughput are engine knobs only. Changing any of them must leave the vCPU's
 * events, in order and at their virtual times, exactly as they were: the same model hash.
 */
class KnobInvarianceTest {
    private static final Config CONFIG = ConfigFactory.load();

    /**
     * A busy single vCPU: three tasks over a working set twice the resident limit, syscalls, NMIs
     * that sometimes read user memory (a way into hazard (i)), churn.
     */
    private static TestSettings oneVcpu(Settings.HostEra era, long seed) {
        return TestSettings.matching(era).vcpus(1).tasks(3).workingSet(64).mappedPages(48)
                .syscalls(0.02, 2, 0.3, 0.2)
                .hostMemory(2, 0.7, 5).swapIn(120_000)
                .nmiSources(List.of(new Settings.NmiSource("perf", List.of(), 30_000, 0.5, 0.1)))
                .duration(Duration.ofMillis(5)).seed(seed);
    }

    private static RunResult run(Settings s) throws InterruptedException {
        RunControl control = RunControl.virtualTime(s.run().duration(), s.run().duration());
        return Simulation.runDeterministic(s, CONFIG, control, p -> { }, Strategy.uniform(s.run().seed()), null, null);
    }

    private record Knobs(long quantumNanos, int microOpsPerStep, int throughput) {}

    @ParameterizedTest
    @EnumSource(value = Settings.HostEra.class, names = {"LEGACY", "INTERRUPT"})
    void oneVcpusEventsDoNotDependOnTheEnginesKnobs(Settings.HostEra era) throws Exception {
        List<Knobs> variants = List.of(
                new Knobs(20_000, 64, 5),
                new Knobs(1_000, 64, 5), new Knobs(100_000, 64, 5),
                new Knobs(20_000, 1, 5), new Knobs(20_000, 1024, 5),
                new Knobs(20_000, 64, 1), new Knobs(1_000, 1, 1));
        for (long seed = 1; seed <= 3; seed++) {
            RunResult base = null;
            for (Knobs k : variants) {
                Settings s = oneVcpu(era, seed).engine(k.quantumNanos(), k.microOpsPerStep()).mailboxThroughput(k.throughput()).build();
                RunResult r = run(s);
                if (base == null) {
                    base = r;
                    assertTrue(r.counters().get("tokensIssued") > 20 && r.counters().get("nmisDelivered") > 20,
                            "a run with something to get wrong: " + r.counters());
                    continue;
                }
                assertEquals(base.endReason(), r.endReason(), "seed " + seed + ", " + k);
                assertEquals(base.simulatedNanos(), r.simulatedNanos(), "seed " + seed + ", " + k);
                assertEquals("{}", differences(base, r), "seed " + seed + ", " + k);
                assertEquals(base.modelHash(), r.modelHash(), "seed " + seed + ", " + k + " against " + variants.get(0));
            }
        }
    }

    /** The counters that differ, as "key: base -> r", the engine's own (messages) left out. */
    private static String differences(RunResult base, RunResult r) {
        Map<String, String> d = new TreeMap<>();
        base.counters().forEach((key, v) -> {
            if (!key.equals("messages") && !v.equals(r.counters().get(key))) {
                d.put(key, v + " -> " + r.counters().get(key));
            }
        });
        return d.toString();
    }

    /**
     * Several vCPUs: their interactions inside a quantum (reschedule IPIs, the shared sleeper
     * table) are genuinely concurrent, so a knob may change one run's details, but not its
     * statistics. Eight seeds per variant; for each measure, the variant's mean over the seeds
     * must lie within four standard errors of the difference (Welch) of the base's, plus 1 % of
     * it: a real shift of a few percent fails, seed noise does not.
     */
    @Test
    void severalVcpusStatisticsDoNotDependOnTheEnginesKnobs() throws Exception {
        List<Knobs> variants = List.of(new Knobs(20_000, 64, 5), new Knobs(1_000, 64, 5), new Knobs(100_000, 64, 5),
                new Knobs(20_000, 1, 1), new Knobs(20_000, 1024, 5));
        Map<String, double[]> base = null;
        for (Knobs k : variants) {
            Map<String, double[]> m = new TreeMap<>();
            for (int seed = 1; seed <= 8; seed++) {
                Settings s = TestSettings.interrupt().vcpus(4).tasks(3).workingSet(256).mappedPages(192)
                        .syscalls(0.02, 4, 0.3, 0.2).hostMemory(4, 0.6, 50)
                        .swapIn(new Settings.Latency(Settings.Latency.Distribution.EXPONENTIAL, 200_000, 100_000, 2_000_000))
                        .nmiSources(List.of(new Settings.NmiSource("perf", List.of(), 100_000, 0.5, 0.0)))
                        .engine(k.quantumNanos(), k.microOpsPerStep()).mailboxThroughput(k.throughput())
                        .duration(Duration.ofMillis(10)).seed(seed).build();
                RunResult r = run(s);
                assertTrue(r.conservation().held(), r.conservation().detail());
                measure(m, "tokensIssued", seed, r.counters().get("tokensIssued"));
                measure(m, "nmisDelivered", seed, r.counters().get("nmisDelivered"));
                measure(m, "notPresentToPageReady p50", seed, r.latencies().get("notPresentToPageReady").p50());
                measure(m, "taskSleep p50", seed, r.latencies().get("taskSleep").p50());
            }
            if (base == null) {
                base = m;
                continue;
            }
            for (String measure : base.keySet()) {
                double[] a = base.get(measure);
                double[] b = m.get(measure);
                double tolerance = 4 * Math.sqrt(variance(a) / a.length + variance(b) / b.length) + 0.01 * mean(a);
                assertTrue(Math.abs(mean(a) - mean(b)) <= tolerance, String.format(
                        "%s with %s: mean %.1f against %.1f, tolerance %.1f", measure, k, mean(b), mean(a), tolerance));
            }
        }
    }

    private static void measure(Map<String, double[]> m, String name, int seed, double value) {
        m.computeIfAbsent(name, n -> new double[8])[seed - 1] = value;
    }

    private static double mean(double[] x) {
        return Arrays.stream(x).average().orElseThrow();
    }

    private static double variance(double[] x) {
        double mu = mean(x);
        return Arrays.stream(x).map(v -> (v - mu) * (v - mu)).sum() / (x.length - 1);
    }
}
