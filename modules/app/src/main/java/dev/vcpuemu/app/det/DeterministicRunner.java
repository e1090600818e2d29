package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.DeterministicHost;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.timeline.TrackSinks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Deterministic runs of one topology, as explore, replay, shrink and {@code run --engine
 * deterministic} make them. A run is named by the topology file, its {@code --set} overrides
 * (the seed is one of them) and the strategy: exactly what a printed replay command repeats.
 * The duration is virtual time; progress is sampled every tenth of it.
 */
public final class DeterministicRunner {
    private final SettingsLoader loader = new SettingsLoader();
    private final Optional<Path> topology;
    private final List<String> sets;

    public DeterministicRunner(Optional<Path> topology, List<String> sets) {
        this.topology = topology;
        this.sets = List.copyOf(sets);
    }

    public List<String> sets() {
        return sets;
    }

    /** A runner of the same topology with {@code extra} set after this one's overrides. */
    public DeterministicRunner with(List<String> extra) {
        List<String> all = new ArrayList<>(sets);
        all.addAll(extra);
        return new DeterministicRunner(topology, all);
    }

    /** The topology with the runner's overrides, loaded once for {@link #forSeed}. */
    private volatile LoadedSettings loaded;

    /**
     * The topology with the runner's overrides and {@code seed}: what {@code load(seed, List.of())}
     * gives, from one load of the topology shared by every seed (explore's runs).
     */
    public LoadedSettings forSeed(long seed) throws ConfigProblem {
        LoadedSettings base = loaded;
        if (base == null) {
            base = loader.load(topology, sets);
            loaded = base;
        }
        return base.withSeed(seed);
    }

    /** The topology with the runner's overrides, then {@code extra}, then the seed. */
    public LoadedSettings load(long seed, List<String> extra) throws ConfigProblem {
        List<String> all = new ArrayList<>(sets);
        all.addAll(extra);
        all.add("run.seed=" + seed);
        return loader.load(topology, all);
    }

    /**
     * One run.
     *
     * @param stop   ends the run at a finding, or null to run to the duration
     * @param replay the choices to follow instead of the strategy, or null
     * @param record where to append every choice, or null
     * @param timeline where the vCPUs and workers record their events (a trace file), or null
     */
    public static RunResult run(LoadedSettings loaded, StrategySpec strategy, StopRule stop, long maxSteps,
                                Schedule replay, Schedule record, TrackSinks timeline, Consumer<Progress> progress)
            throws InterruptedException {
        return run(loaded, strategy, stop, maxSteps, replay, record, timeline, progress, () -> { });
    }

    /** One run, with {@code onStart} told when its first quantum opens (a progress display's clock). */
    public static RunResult run(LoadedSettings loaded, StrategySpec strategy, StopRule stop, long maxSteps,
                                Schedule replay, Schedule record, TrackSinks timeline, Consumer<Progress> progress,
                                Runnable onStart) throws InterruptedException {
        return run(loaded, strategy, control(loaded, stop, maxSteps).onStart(onStart), replay, record, timeline,
                progress);
    }

    /** One run under {@code control} (from {@link #control}), which the caller may stop on a signal. */
    public static RunResult run(LoadedSettings loaded, StrategySpec strategy, RunControl control, Schedule replay,
                                Schedule record, TrackSinks timeline, Consumer<Progress> progress)
            throws InterruptedException {
        var s = loaded.settings();
        return Simulation.runDeterministic(s, loaded.config(), control, progress,
                strategy.create(s.run().seed(), replay), record, timeline);
    }

    /** One run under {@code strategy} as the caller made it (a replay, whose divergence it then reads). */
    public static RunResult run(LoadedSettings loaded, Strategy strategy, StopRule stop, long maxSteps, Schedule record,
                                TrackSinks timeline) throws InterruptedException {
        var s = loaded.settings();
        return Simulation.runDeterministic(s, loaded.config(), control(loaded, stop, maxSteps), p -> { }, strategy,
                record, timeline);
    }

    /**
     * One run in {@code host}, an actor system kept for many runs (explore): the same result as
     * {@link #run} gives alone.
     */
    public static RunResult run(DeterministicHost host, LoadedSettings loaded, StrategySpec strategy, StopRule stop,
                                long maxSteps) throws InterruptedException {
        return run(host, loaded, strategy.create(loaded.settings().run().seed(), null), stop, maxSteps, null, null);
    }

    /** One run in {@code host} under {@code strategy} as the caller made it, recording and reporting as asked. */
    public static RunResult run(DeterministicHost host, LoadedSettings loaded, Strategy strategy, StopRule stop,
                                long maxSteps, Schedule record, TrackSinks timeline) throws InterruptedException {
        return host.run(loaded.settings(), control(loaded, stop, maxSteps), null, strategy, record, timeline);
    }

    /**
     * How a deterministic run is bounded: its simulated duration, progress every tenth of it (part
     * of the schedule, so of the replay key), the step budget and the stop rule.
     */
    public static RunControl control(LoadedSettings loaded, StopRule stop, long maxSteps) {
        var s = loaded.settings();
        RunControl control = RunControl.virtualTime(s.run().duration(), s.run().duration().dividedBy(10))
                .stepBudget(maxSteps);
        if (stop != null) {
            control.stopOnFinding(stop.stopsOn());
        }
        return control;
    }
}
