package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.DeterministicHost;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.Counter;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
    /** A run that failed: its seed and result. */
    public record Failure(long seed, RunResult result) {}

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
    private final AtomicLong done = new AtomicLong();
    private final Map<FindingKind, AtomicLong> findings = new EnumMap<>(FindingKind.class);
    private final Map<FindingKind, AtomicLong> runsWith = new EnumMap<>(FindingKind.class);
    private final AtomicLong notPresents = new AtomicLong();
    private final AtomicLong simulatedNanos = new AtomicLong();
    private final ConcurrentSkipListMap<Long, Failure> failures = new ConcurrentSkipListMap<>();

    public Explorer(DeterministicRunner runner, StrategySpec strategy, StopRule stop, long maxSteps, int threads) {
        this.runner = runner;
        this.strategy = strategy;
        this.stop = stop;
        this.maxSteps = maxSteps;
        this.threads = threads;
        for (FindingKind k : FindingKind.values()) {
            findings.put(k, new AtomicLong());
            runsWith.put(k, new AtomicLong());
        }
    }

    /**
     * Runs seeds {@code first} to {@code first + runs - 1}, {@link #threads} at once, launching
     * no more after the first failure or after {@code deadlineNanos} ({@link System#nanoTime}).
     */
    public Outcome run(long first, long runs, long deadlineNanos) throws InterruptedException, ExecutionException {
        long started = System.nanoTime();
        AtomicLong next = new AtomicLong();
        AtomicBoolean stopLaunching = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            workers.add(pool.submit(() -> {
                // One actor system per worker thread, a fresh machine tree per run: starting a
                // system costs more than a short run.
                DeterministicHost host = null;
                try {
                    while (!stopLaunching.get() && System.nanoTime() < deadlineNanos) {
                        long i = next.getAndIncrement();
                        if (i >= runs) {
                            return null;
                        }
                        long seed = first + i;
                        LoadedSettings loaded = runner.forSeed(seed);
                        if (host == null) {
                            host = new DeterministicHost(loaded.settings(), loaded.config(), false);
                        }
                        RunResult r = DeterministicRunner.run(host, loaded, strategy, stop, maxSteps);
                        r.findings().forEach((k, n) -> {
                            findings.get(k).addAndGet(n);
                            if (n > 0) {
                                runsWith.get(k).incrementAndGet();
                            }
                        });
                        notPresents.addAndGet(r.counters().getOrDefault(Counter.APF_NOT_PRESENT_INJECTED.key, 0L));
                        simulatedNanos.addAndGet(r.simulatedNanos());
                        if (stop.failed(r)) {
                            failures.put(i, new Failure(seed, r));
                            stopLaunching.set(true);
                        }
                        done.incrementAndGet();
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
        return new Outcome(done.get(), wall, failures.isEmpty() ? null : failures.firstEntry().getValue());
    }

    /** Runs finished so far. */
    public long done() {
        return done.get();
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
        return new Estimate(kind, done.get(), runsWith.get(kind).get(), findings.get(kind).get(), notPresents.get(),
                simulatedNanos.get());
    }

    /** Findings of every run so far, by kind (only kinds seen). */
    public Map<FindingKind, Long> findings() {
        Map<FindingKind, Long> seen = new TreeMap<>();
        findings.forEach((k, v) -> {
            if (v.get() > 0) {
                seen.put(k, v.get());
            }
        });
        return seen;
    }
}
