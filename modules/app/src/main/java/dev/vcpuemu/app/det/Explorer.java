package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.DeterministicHost;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.ProtocolWindow;
import dev.vcpuemu.model.trace.WindowTracker;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The search of {@code explore}: deterministic runs of one topology side by side, seeds
 * {@code first}, {@code first + 1}, …, each on a thread of its own (DESIGN §3), until a run
 * fails by the stop rule, the runs are used up, or the time limit passes. Which run is
 * reported as failing does not depend on which thread was first: the lowest failing run
 * index among those that finished. The counts can be read while it runs, for a progress
 * display.
 */
public final class Explorer {
    /**
     * How one run of the search is made: its seed and strategy. For {@code random} and {@code pct}
     * the seed says it all; a {@code windows} run after the first also moves draws ({@code aim}).
     */
    public record Plan(long index, long seed, StrategySpec spec, WindowAims.Aim aim) {
        public Strategy strategy() {
            Strategy base = spec.create(seed, null);
            return aim == null ? base : Strategy.aimed(base, aim.values());
        }

        /** Whether {@code replay --seed} with the strategy's arguments remakes it (else only its schedule does). */
        public boolean bySeed() {
            return aim == null;
        }
    }

    /** A run that failed: how it was made, and its result. */
    public record Failure(Plan plan, RunResult result) {
        public long seed() {
            return plan.seed();
        }
    }

    /** What a search gave: how many runs in how long, and the failing run, if any. */
    public record Outcome(long runs, double wallSeconds, Failure failure) {
        public double runsPerSecond() {
            return runs / Math.max(1e-9, wallSeconds);
        }
    }

    private final DeterministicRunner runner;
    private final StrategySpec strategy;
    private final StopRule stop;
    private final long maxSteps;
    private final int threads;
    private final Tally tally = new Tally();
    private final ConcurrentSkipListMap<Long, Failure> failures = new ConcurrentSkipListMap<>();
    private volatile List<WindowAims.Aim> aims = List.of();
    private volatile Map<ProtocolWindow, Long> windowsSeen = Map.of();
    private final AtomicBoolean stopRequested = new AtomicBoolean();

    public Explorer(DeterministicRunner runner, StrategySpec strategy, StopRule stop, long maxSteps, int threads) {
        this.runner = runner;
        this.strategy = strategy;
        this.stop = stop;
        this.maxSteps = maxSteps;
        this.threads = threads;
    }

    /**
     * Runs seeds {@code first} to {@code first + runs - 1}, {@link #threads} at once, launching
     * no more after the first failure or after {@code deadlineNanos} ({@link System#nanoTime}).
     * With {@code windows}: the first run (seed {@code first}, random) alone, then the runs aimed
     * at its windows, then PCT from seed {@code first + 1} on.
     */
    public Outcome run(long first, long runs, long deadlineNanos) throws InterruptedException, ExecutionException {
        long started = System.nanoTime();
        AtomicLong next = new AtomicLong();
        AtomicBoolean stopLaunching = new AtomicBoolean();
        if (strategy.kind() == StrategySpec.Kind.windows && runs > 0) {
            next.set(1);
            if (!probe(first)) {
                stopLaunching.set(true);
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            workers.add(pool.submit(() -> {
                // One actor system per worker thread, a fresh machine tree per run: starting a
                // system costs more than a short run.
                DeterministicHost host = null;
                try {
                    while (!stopLaunching.get() && !stopRequested.get() && System.nanoTime() < deadlineNanos) {
                        long i = next.getAndIncrement();
                        if (i >= runs) {
                            return null;
                        }
                        Plan plan = plan(first, i);
                        LoadedSettings loaded = runner.forSeed(plan.seed());
                        if (host == null) {
                            host = new DeterministicHost(loaded.settings(), loaded.config(), false);
                        }
                        RunResult r = DeterministicRunner.run(host, loaded, plan.strategy(), stop, maxSteps, null, null);
                        if (!account(i, plan, r)) {
                            stopLaunching.set(true);
                        }
                    }
                    return null;
                } finally {
                    if (host != null) {
                        host.close();
                    }
                }
            }));
        }
        try {
            for (Future<?> f : workers) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        double wall = (System.nanoTime() - started) / 1e9;
        return new Outcome(tally.runs(), wall, failures.isEmpty() ? null : failures.firstEntry().getValue());
    }

    /**
     * Launches no more runs, as if the deadline had passed (a stop signal): the runs under way
     * end and count, and {@link #run} returns. Safe from any thread.
     */
    public void requestStop() {
        stopRequested.set(true);
    }

    /** The windows strategy's first run: recorded, its windows found, the aims planned. False when it failed. */
    private boolean probe(long seed) throws InterruptedException, ExecutionException {
        LoadedSettings loaded;
        try {
            loaded = runner.forSeed(seed);
        } catch (ConfigProblem e) {
            // As a worker's run would report it.
            throw new ExecutionException(e);
        }
        Plan plan = new Plan(0, seed, strategy, null);
        Schedule record = new Schedule();
        WindowAims.Probe probe = new WindowAims.Probe(
                (int) Math.min(Integer.MAX_VALUE, loaded.settings().topology().totalVcpus()));
        RunResult r = DeterministicRunner.run(loaded, plan.strategy(), stop, maxSteps, record, probe);
        List<WindowTracker.Window> windows = probe.windows();
        Map<ProtocolWindow, Long> seen = new EnumMap<>(ProtocolWindow.class);
        windows.forEach(w -> seen.merge(w.kind(), 1L, Long::sum));
        windowsSeen = seen;
        aims = WindowAims.plan(loaded.settings(), windows, record, strategy.windowRuns());
        return account(0, plan, r);
    }

    /** Run {@code i} of the search. */
    Plan plan(long first, long i) {
        if (strategy.kind() != StrategySpec.Kind.windows) {
            return new Plan(i, first + i, strategy, null);
        }
        List<WindowAims.Aim> planned = aims;
        if (i == 0) {
            return new Plan(0, first, strategy, null);
        }
        if (i <= planned.size()) {
            return new Plan(i, first, strategy, planned.get((int) i - 1));
        }
        return new Plan(i, first + i - planned.size(), strategy.pct(), null);
    }

    /** The windows the windows strategy's first run showed, by kind (empty for other strategies). */
    public Map<ProtocolWindow, Long> windowsSeen() {
        return windowsSeen;
    }

    /** The windows strategy's aimed runs, once its first run is in (empty otherwise). */
    public List<WindowAims.Aim> aims() {
        return aims;
    }

    /** Counts run {@code i}'s result in; false when it failed. */
    private boolean account(long i, Plan plan, RunResult r) {
        boolean failed = stop.failed(r);
        if (failed) {
            failures.put(i, new Failure(plan, r));
        }
        tally.add(r);
        return !failed;
    }

    /** Runs finished so far. */
    public long done() {
        return tally.runs();
    }

    /** Failing runs so far. */
    public int failing() {
        return failures.size();
    }

    /**
     * How often {@code kind} hit in the runs finished so far (read it once the search is over).
     * Only meaningful when the stop rule let every run reach its end ({@link StopRule#emulatorFailure}).
     */
    public Estimate estimate(FindingKind kind) {
        return tally.estimate(kind);
    }

    /** What the runs finished so far add up to. */
    public Tally.Counts counts() {
        return tally.counts();
    }

    /** Findings of every run so far, by kind (only kinds seen). */
    public Map<FindingKind, Long> findings() {
        return tally.findings();
    }
}
