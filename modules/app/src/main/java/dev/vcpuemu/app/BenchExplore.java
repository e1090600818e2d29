package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.Explorer;
import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.app.det.Tally;
import dev.vcpuemu.engine.run.RunResult;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/**
 * {@code bench}'s explore phase: explore's own search (one actor system per thread, seeds one
 * after the other) on a one-vCPU topology of 1 ms runs, measured in runs per second, and in what
 * they give a user: simulated seconds and APF round trips per wall second. On a topology whose
 * guest dies within a run (the NMI-window scenario), where the engines' phases have no steady
 * rate, this is the figure a search of it achieves.
 */
final class BenchExplore {
    private final Path topology;
    private final List<String> sets;
    private final int repeat;

    /**
     * @param topology the topology file, or null for the embedded default
     * @param sets     the overrides, the phase's own last
     * @param repeat   how many measured searches
     */
    BenchExplore(Path topology, List<String> sets, int repeat) {
        this.topology = topology;
        this.sets = List.copyOf(sets);
        this.repeat = repeat;
    }

    /** The explore phase's name, as printed and in the JSON. */
    static final String NAME = "explore, 1 vCPU, 1 ms runs";

    /**
     * One measured explore search: how many runs it finished in how much wall time, the simulated
     * time and APF round trips of those runs, the machine's load meanwhile.
     */
    record Sample(long runs, double wallSeconds, double simulatedSeconds, long roundTrips, MachineLoad.Load load) {
        double runsPerSecond() {
            return wallSeconds > 0 ? runs / wallSeconds : 0;
        }

        double simulatedSecondsPerSecond() {
            return wallSeconds > 0 ? simulatedSeconds / wallSeconds : 0;
        }

        double roundTripsPerSecond() {
            return wallSeconds > 0 ? roundTrips / wallSeconds : 0;
        }
    }

    /** What the explore phase gave: whether the emulator held up in every run, and its warnings. */
    record Result(boolean conserved, int warnings) {}

    /**
     * The explore phase, {@code --repeat} times: each a warm-up search, then a measured one,
     * both bounded by the wall clock, on as many threads as there are cores (explore's default).
     * Its result goes under {@code explore} in the JSON.
     */
    Result measure(LoadedSettings base, ObjectNode root, Duration warm, Duration measure,
                   BenchCommand.Progress progress, PrintWriter o, PrintWriter err) throws InterruptedException {
        int threads = Runtime.getRuntime().availableProcessors();
        StrategySpec strategy = StrategySpec.random();
        DeterministicRunner runner = new DeterministicRunner(Optional.ofNullable(topology), sets);
        o.printf("%nexplore: %s, %s, %s simulated per run, strategy %s, %d runs at once%n", base.source(),
                ValidateCommand.describe(base.settings()).replaceAll(", seed -?\\d+$", ""),
                ValidateCommand.human(base.settings().run().duration()), strategy.describe(), threads);
        o.flush();
        // Every search goes on from the seed where the one before stopped: no run is made twice.
        long seed = base.settings().run().seed();
        boolean conserved = true;
        List<Sample> samples = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (int round = 1; round <= repeat; round++) {
            progress.starting(NAME, round, repeat);
            if (!warm.isZero()) {
                Explorer.Outcome w = search(new Explorer(runner, strategy, StopRule.emulatorFailure(), Long.MAX_VALUE,
                        threads), seed, warm);
                seed += w.runs();
                conserved &= held(w, err);
            }
            MachineLoad load = MachineLoad.start();
            Explorer explorer = new Explorer(runner, strategy, StopRule.emulatorFailure(), Long.MAX_VALUE, threads);
            Explorer.Outcome m = search(explorer, seed, measure);
            Tally.Counts c = explorer.counts();
            Sample x = new Sample(m.runs(), m.wallSeconds(), c.simulatedNanos() / 1e9, c.roundTrips(), load.stop());
            seed += m.runs();
            conserved &= held(m, err);
            samples.add(x);
            o.printf("  %-34s %8.1f runs/s   (%,d runs in %.1f s)%s%n", NAME, x.runsPerSecond(), x.runs(),
                    x.wallSeconds(), repeat > 1 ? String.format("   run %d/%d", round, repeat) : "");
            o.printf("  %-34s %8.3f simulated s/s   %,12.0f APF round trips/s%n", "", x.simulatedSecondsPerSecond(),
                    x.roundTripsPerSecond());
            String busy = x.load().warning();
            if (busy != null) {
                String w = NAME + (repeat > 1 ? " run " + round : "") + ": " + busy;
                warnings.add(w);
                o.println("  WARNING " + w);
            }
            o.flush();
        }
        ObjectNode x = put(root, samples);
        if (repeat > 1) {
            o.printf("  median of %d runs (min-max):%n", repeat);
            o.printf("  %-34s %8.1f runs/s (%.1f-%.1f)%n", NAME, x.get("runsPerSecond").asDouble(),
                    x.get("runsPerSecondMin").asDouble(), x.get("runsPerSecondMax").asDouble());
            o.printf("  %-34s %8.3f simulated s/s (%.3f-%.3f)   %,12.0f APF round trips/s (%,.0f-%,.0f)%n", "",
                    x.get("simulatedSecondsPerSecond").asDouble(), x.get("simulatedSecondsPerSecondMin").asDouble(),
                    x.get("simulatedSecondsPerSecondMax").asDouble(), x.get("apfRoundTripsPerSecond").asDouble(),
                    x.get("apfRoundTripsPerSecondMin").asDouble(), x.get("apfRoundTripsPerSecondMax").asDouble());
        }
        x.put("topology", base.source());
        ArrayNode sets = x.putArray("sets");
        this.sets.forEach(sets::add);
        x.put("vcpus", base.settings().topology().totalVcpus());
        x.put("simulatedSecondsPerRun", base.settings().run().duration().toNanos() / 1e9);
        x.put("strategy", strategy.describe());
        x.put("threads", threads);
        ArrayNode w = x.putArray("warnings");
        warnings.forEach(w::add);
        o.flush();
        return new Result(conserved, warnings.size());
    }

    /**
     * One search of {@code explorer}'s, for {@code d} of wall time from seed {@code first}. Its stop rule
     * is {@link StopRule#emulatorFailure()}, not one of explore's: under those a finding ends its
     * run early (the run would not be the 1 ms measured) and stops the whole search (the phase
     * would end early), and the topology may well have findings. Only the emulator's own failure
     * stops it, and {@link #held} reports that as one. The wall time is explore's own: from the
     * start of the search to the end of its last run, the actor systems' start and stop included.
     */
    private static Explorer.Outcome search(Explorer explorer, long first, Duration d) throws InterruptedException {
        try {
            // No run count to use up: the deadline ends the search (runs under way then finish).
            return explorer.run(first, Long.MAX_VALUE, System.nanoTime() + d.toNanos());
        } catch (ExecutionException e) {
            throw new IllegalStateException("explore phase: " + e.getCause(), e.getCause());
        }
    }

    /** Whether the emulator held up in every run of the search; if not, the failing run on stderr. */
    private static boolean held(Explorer.Outcome outcome, PrintWriter err) {
        Explorer.Failure f = outcome.failure();
        if (f == null) {
            return true;
        }
        RunResult r = f.result();
        err.println("vcpu-emu: emulator failure in the explore phase, run with seed " + f.seed() + ": "
                + (r.fault() != null ? r.fault().actor() + ": " + r.fault().error()
                : "conservation broken: " + r.conservation().detail()));
        err.flush();
        return false;
    }

    /**
     * The explore phase's runs in the JSON, under {@code explore}: runs per second as the median
     * of the measured searches with its range ({@code ...Min}, {@code ...Max}); runs and wall time
     * summed over them; each search under {@code runs}, with the cores other processes took.
     */
    static ObjectNode put(ObjectNode root, List<Sample> searches) {
        ObjectNode x = root.putObject("explore");
        x.put("name", NAME);
        x.put("runCount", searches.size());
        x.put("exploreRuns", searches.stream().mapToLong(Sample::runs).sum());
        x.put("wallSeconds", searches.stream().mapToDouble(Sample::wallSeconds).sum());
        BenchCommand.putStat(x, "runsPerSecond", searches.stream().mapToDouble(Sample::runsPerSecond).toArray());
        BenchCommand.putStat(x, "simulatedSecondsPerSecond",
                searches.stream().mapToDouble(Sample::simulatedSecondsPerSecond).toArray());
        BenchCommand.putStat(x, "apfRoundTripsPerSecond", searches.stream().mapToDouble(Sample::roundTripsPerSecond)
                .toArray());
        ArrayNode each = x.putArray("runs");
        for (Sample r : searches) {
            ObjectNode e = each.addObject();
            e.put("exploreRuns", r.runs());
            e.put("wallSeconds", r.wallSeconds());
            e.put("runsPerSecond", r.runsPerSecond());
            e.put("simulatedSeconds", r.simulatedSeconds());
            e.put("apfRoundTrips", r.roundTrips());
            e.put("otherProcessesCores", r.load().otherCores());
            e.put("ownCores", r.load().ownCores());
            e.put("loadAverage", r.load().loadAverage());
        }
        return x;
    }
}
