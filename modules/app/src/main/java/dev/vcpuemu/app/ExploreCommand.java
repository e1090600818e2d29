package dev.vcpuemu.app;

import dev.vcpuemu.app.cluster.Farm;
import dev.vcpuemu.app.cluster.FarmSearch;
import dev.vcpuemu.app.cluster.Job;
import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.trace.PerfettoTrace;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.Estimate;
import dev.vcpuemu.app.det.Explorer;
import dev.vcpuemu.app.det.Shrinker;
import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.app.det.WindowAims;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.app.store.RunStore;
import dev.vcpuemu.app.store.StoredRun;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import dev.vcpuemu.engine.timeline.Timeline;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code explore TOPOLOGY --runs N}: many deterministic runs side by side, seeds base, base+1,
 * …, each on its own seeded thread (DESIGN §3). Stops at the first failing run (the first
 * finding of {@code --find KIND}, else an unexpected finding or an unmet expectation), re-runs
 * it to record its schedule and trace and to check that the replay gives the same hash,
 * writes report, schedule and trace, and prints the command that replays it. With
 * {@code --shrink} the failing run is then reduced. Exit code 1 when a failing run was found,
 * 0 when none was within the runs or time given.
 */
@Command(name = "explore", description = "Search seeds and schedules for a failing run; print the command that replays it.")
final class ExploreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPOLOGY", description = "HOCON topology file.")
    Path topology;

    @Option(names = "--runs", paramLabel = "N", required = true, description = "How many runs (seeds) to try at most.")
    long runs;

    @Option(names = "--find", paramLabel = "KIND", converter = FindingKindConverter.class,
            description = "Search for this finding kind instead of unexpected ones."
                    + " Any case, with - or _ (lost-wakeup, LOST_WAKEUP).")
    FindingKind find;

    @Option(names = "--estimate", paramLabel = "KIND", converter = FindingKindConverter.class,
            description = "Instead of searching, run every seed to its end and estimate how often KIND hits: per run, "
                    + "per 10^6 not-presents and per simulated hour, each with its 95 %% interval.")
    FindingKind estimate;

    @Option(names = "--eras", paramLabel = "HOST/GUEST", split = ",",
            description = "With --estimate: one estimate per host/guest era pair, in one table "
                    + "(e.g. legacy/legacy,interrupt/interrupt,error-code/error-code).")
    List<String> eras;

    @Option(names = "--seed", paramLabel = "S", description = "First seed (default: the topology's run.seed).")
    Long baseSeed;

    @Option(names = "--parallelism", paramLabel = "P", description = "Runs at once (default: the number of cores).")
    Integer parallelism;

    @Option(names = "--time-limit", paramLabel = "T", description = "Stop launching runs after T of wall time, e.g. 5m.")
    String timeLimit;

    @Option(names = "--duration", paramLabel = "D", description = "Simulated duration of each run (run.duration).")
    String duration;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where the failing run's report, schedule and trace go. Default: a new run directory in runs/.")
    Path out;

    @Option(names = "--shrink", description = "Reduce the failing run (topology, then schedule) and write the smallest found.")
    boolean shrink;

    @Option(names = "--shrink-time", paramLabel = "T", defaultValue = "2m",
            description = "Wall time shrinking may take. Default: ${DEFAULT-VALUE}.")
    String shrinkTime;

    @Option(names = "--cluster", description = "Farm the runs out over JVMs that join this one (node --join, "
            + "src/site/markdown/cluster.md); this JVM works too.")
    boolean cluster;

    @Option(names = "--local-cluster", paramLabel = "K",
            description = "Farm the runs out over K JVMs on this machine: this one and K-1 it starts.")
    Integer localCluster;

    @Mixin
    ClusterAddress address;

    @Mixin
    StrategyOptions strategyOptions;

    @Mixin
    SetOptions setOptions;

    /** How to stop the search at work (its explorer, or its farm), for a stop signal to reach; null before it starts. */
    private volatile Runnable searching;
    private volatile boolean stopRequested;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SetOptions.Typed sets = setOptions.typed().option("--duration", duration, "run.duration");
        sets.sets.add("run.report=\"\"");
        DeterministicRunner runner = new DeterministicRunner(Optional.of(topology), sets.sets);
        LoadedSettings base;
        Duration limit;
        Duration shrinkLimit;
        try {
            base = new SettingsLoader().load(Optional.of(topology), sets.sets, sets.typed);
            limit = timeLimit == null ? null : parseDuration("--time-limit", timeLimit);
            shrinkLimit = parseDuration("--shrink-time", shrinkTime);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }
        String problem = strategyOptions.problem();
        if (problem == null && runs < 1) {
            problem = "--runs: must be at least 1, got " + runs;
        }
        if (problem == null && estimate != null && (find != null || shrink)) {
            problem = "--estimate: runs every seed to its end; it cannot be combined with " + (find != null ? "--find" : "--shrink");
        }
        if (problem == null && estimate != null && strategyOptions.strategy == StrategySpec.Kind.windows) {
            problem = "--estimate: rates hold for runs timed at random; --strategy windows aims its runs at the windows";
        }
        if (problem == null && eras != null && estimate == null) {
            problem = "--eras: only with --estimate";
        }
        List<List<String>> pairs = new ArrayList<>();
        for (String pair : eras == null ? List.<String>of() : eras) {
            String[] hg = pair.split("/", -1);
            if (problem == null && (hg.length != 2 || hg[0].isBlank() || hg[1].isBlank())) {
                problem = "--eras: expected HOST/GUEST (e.g. legacy/legacy), got " + pair;
            } else if (problem == null) {
                List<String> extra = List.of("host.era=" + hg[0].strip(), "guest.era=" + hg[1].strip());
                try {
                    new SettingsLoader().load(Optional.of(topology), concat(sets.sets, extra), sets.typed);
                } catch (ConfigProblem p) {
                    problem = "--eras " + pair + ": " + p.getMessage();
                }
                pairs.add(extra);
            }
        }
        if (problem == null && parallelism != null && parallelism < 1) {
            problem = "--parallelism: must be at least 1, got " + parallelism;
        }
        if (problem == null) {
            problem = clusterProblem();
        }
        if (problem != null) {
            err.println(problem);
            return Main.BAD_INPUT;
        }
        StoredRun stored = null;
        if (out == null) {
            try {
                stored = Stored.open(spec, "explore", "deterministic", base, RunStore.DEFAULT_ROOT, err);
            } catch (Conclusion.BadInput b) {
                return Main.BAD_INPUT;
            }
            out = stored.dir();
        }
        long first = baseSeed != null ? baseSeed : base.settings().run().seed();
        // An estimate counts findings in whole runs: only the emulator's own failure stops one.
        StopRule stop = estimate != null ? StopRule.emulatorFailure()
                : find != null ? StopRule.find(find) : StopRule.unexpected(base.settings().expect());
        int cores = Runtime.getRuntime().availableProcessors();
        // K JVMs on one machine share its cores: each gets its share unless told otherwise.
        int threads = parallelism != null ? parallelism : localCluster != null ? Math.max(1, cores / localCluster) : cores;
        String atOnce = localCluster != null ? localCluster + " JVMs x " + threads + " thread(s) at once"
                : cluster ? threads + " at once here, more as nodes join" : threads + " at once";
        long maxSteps = strategyOptions.maxStepsOrUnbounded();

        StrategySpec strategy = strategyOptions.spec(StrategySpec.DEFAULT_HORIZON);
        // windows falls back to PCT after its aimed runs: the same horizon, measured the same way.
        if (strategy.kind() != StrategySpec.Kind.random && strategyOptions.pctHorizon == null) {
            RunResult calibration = DeterministicRunner.run(runner.load(first, List.of()), StrategySpec.random(), stop,
                    maxSteps, null, null, null, p -> { });
            strategy = strategy.withHorizon(Math.max(1000, calibration.schedulingSteps()));
            o.printf("explore: PCT horizon %d steps (measured on one run)%n", strategy.pctHorizon());
        }
        o.printf("vcpu-emu %s: explore %s, %s, %d runs from seed %d, %s, %s simulated each, strategy %s, stop at %s%n",
                Main.version(), topology, ValidateCommand.describe(base.settings()).replaceAll(", seed -?\\d+$", ""),
                runs, first, atOnce, ValidateCommand.human(base.settings().run().duration()), strategy.describe(), stop.describe());
        o.flush();

        long started = System.nanoTime();
        long deadline = limit == null ? Long.MAX_VALUE : started + limit.toNanos();
        // Ctrl-C (or SIGTERM) ends the search as its time limit would, and the exit code then
        // says so (130, 143).
        EstimateReport estimateReport = EstimateReport.of(topology, base, out);
        try (StopOnSignal signals = StopOnSignal.install(this::stopSearch, "no new runs; the runs under way end, "
                + "then the search's outcome is written")) {
            if (!pairs.isEmpty()) {
                List<Estimate> perPair = new ArrayList<>();
                for (List<String> extra : pairs) {
                    if (stopRequested) {
                        break;
                    }
                    DeterministicRunner pairRunner = new DeterministicRunner(Optional.of(topology),
                            concat(sets.sets, extra));
                    Search pairSearch = search(pairRunner, strategy, stop, maxSteps, threads, first, deadline, o, err);
                    if (pairSearch.found() != null) {
                        return signals.finish(Stored.finish(stored, reportFailure(pairRunner, strategy, stop, maxSteps,
                                pairSearch, shrinkLimit, o, err), err));
                    }
                    perPair.add(pairSearch.estimates().apply(estimate));
                }
                return signals.finish(Stored.finish(stored, estimateReport.printAll(eras, perPair, o), err));
            }
            Search search;
            try {
                search = search(runner, strategy, stop, maxSteps, threads, first, deadline, o, err);
            } catch (ConfigProblem p) {
                // The cluster's port cannot be had: found before any run.
                err.println("explore: " + p.getMessage());
                return Stored.finish(stored, Main.BAD_INPUT, err);
            } catch (NodeFailed f) {
                err.println("vcpu-emu: emulator failure on " + f.getMessage());
                return Stored.finish(stored, Main.EMULATOR_FAILURE, err);
            }
            int code;
            if (estimate != null && search.found() == null) {
                code = estimateReport.print(search.estimates().apply(estimate), search.nodes(), o);
            } else if (search.found() == null) {
                o.printf("explore: no failing run in %d runs (%.1f s, %.2f runs/s)%n", search.runs(),
                        search.wallSeconds(), search.runsPerSecond());
                code = Main.OK;
            } else {
                code = reportFailure(runner, strategy, stop, maxSteps, search, shrinkLimit, o, err);
            }
            return signals.finish(Stored.finish(stored, code, err));
        }
    }

    /** A stop signal: the search at work launches no more runs, and one about to start will not. */
    private void stopSearch() {
        stopRequested = true;
        Runnable stop = searching;
        if (stop != null) {
            stop.run();
        }
    }

    /** The search at work stops with {@code stop}: at once if a stop signal came before it started. */
    private void stopWith(Runnable stop) {
        searching = stop;
        if (stopRequested) {
            stop.run();
        }
    }

    /** Null when the cluster options fit the rest, else the one-line problem. */
    private String clusterProblem() {
        boolean farm = cluster || localCluster != null;
        if (localCluster != null && localCluster < 1) {
            return "--local-cluster: must be at least 1, got " + localCluster;
        }
        if (cluster && localCluster != null) {
            return "--cluster: waits for workers to join; --local-cluster starts its own: choose one";
        }
        String portProblem = address.problem(farm, "--cluster or --local-cluster");
        if (portProblem != null) {
            return portProblem;
        }
        if (farm && strategyOptions.strategy == StrategySpec.Kind.windows) {
            return "--strategy windows: plans its runs from its first one, on one JVM; with a cluster use random or pct";
        }
        if (farm && eras != null) {
            return "--eras: one search per era pair runs on one JVM; not with a cluster";
        }
        return null;
    }

    /**
     * Re-runs the failing run on this JVM, recording its schedule and trace (the run it reports
     * is this re-run, which must have the search's trace hash), and prints how to replay it.
     */
    private int reportFailure(DeterministicRunner runner, StrategySpec strategy, StopRule stop, long maxSteps,
                              Search search, Duration shrinkLimit, PrintWriter o, PrintWriter err)
            throws Exception {
        Found failure = search.found();
        Files.createDirectories(out);
        Path schedulePath = out.resolve("schedule.gz");
        Path tracePath = out.resolve("trace.json");
        Path reportPath = out.resolve("report.json");
        LoadedSettings loaded = runner.load(failure.plan().seed(), List.of());
        Schedule schedule = new Schedule();
        Timeline timeline = TraceOptions.timeline(loaded.settings(), TraceOptions.DEFAULT_EVENTS);
        RunResult r = DeterministicRunner.run(loaded, failure.plan().strategy(), stop, maxSteps, schedule, timeline);
        o.printf("explore: run %d of the search (seed %d%s) fails after %.1f s (%d runs, %.2f runs/s): %s at %.6f ms"
                        + " simulated, %d steps%n",
                failure.plan().index() + 1, failure.plan().seed(), failure.node() == null ? "" : ", on node "
                        + failure.node(), search.wallSeconds(), search.runs(), search.runsPerSecond(), r.endReason(),
                r.simulatedNanos() / 1e6, r.schedulingSteps());
        if (failure.plan().aim() != null) {
            o.printf("  aimed run %d of the windows strategy: %s%n", failure.plan().index(),
                    failure.plan().aim().describe());
        }
        r.findingExamples().stream().findFirst().ifPresent(f ->
                o.printf("  first finding: %s on vCPU %d%s at %d ns: %s%n", f.kind(), f.vcpu(),
                        f.guest() == 0 ? "" : " of guest " + f.guest(), f.atNanos(), f.detail()));
        PerfettoTrace.Written written = PerfettoTrace.write(tracePath, timeline, 0,
                "explore " + loaded.source() + ", seed " + failure.plan().seed(), TraceOptions.metadata(r, loaded.settings()));
        schedule.write(schedulePath);
        Report.write(reportPath, Report.build("explore", "deterministic", Main.version(), loaded.source(),
                loaded.settings(), r, Expectations.judge(loaded.settings().expect(), r)));
        boolean same = r.traceHash().equals(failure.traceHash());
        String ran = failure.node() == null ? "the explore run" : "the run on node " + failure.node();
        o.printf("  re-run: trace hash %s %s%n", r.traceHash(), same ? "(same as " + ran + ")"
                : "DIFFERS from " + ran + "'s " + failure.traceHash());
        o.printf("  wrote %s, %s (%d steps), %s (%,d trace events)%n", reportPath, schedulePath, schedule.size(),
                tracePath, written.events());
        String replay = Main.invocation() + " replay " + quote(topology.toString()) + " --seed " + failure.plan().seed()
                + failure.plan().spec().args() + stop.args() + setArgs(runner.sets()) + maxStepsArg(maxSteps);
        if (failure.plan().bySeed()) {
            o.println("Replay it with:");
            o.println("  " + replay);
            o.println("or follow the recorded schedule:");
        } else {
            o.println("Replay it by following the recorded schedule (it holds the aimed timing):");
        }
        o.println("  " + replay + " --schedule " + quote(schedulePath.toString()));
        o.flush();
        if (!same) {
            err.println("vcpu-emu: emulator failure: the failing run did not reproduce its trace hash");
            return Main.EMULATOR_FAILURE;
        }
        if (r.fault() != null) {
            err.println("vcpu-emu: emulator failure in " + r.fault().actor() + ": " + r.fault().error()
                    + " (stack and last events in " + reportPath + ")");
            return Main.EMULATOR_FAILURE;
        }
        if (shrink) {
            FindingKind kind = stop.culprit(r);
            if (kind == null) {
                o.println("shrink: the run fails by a missing expected finding, not by a finding: nothing to shrink");
            } else {
                shrink(runner, strategy, kind, maxSteps, failure.plan(), shrinkLimit, o);
            }
        }
        return Main.EXPECTATION_FAILED;
    }

    private void shrink(DeterministicRunner runner, StrategySpec strategy, FindingKind kind, long maxSteps,
                        Explorer.Plan failing, Duration budget, PrintWriter o) throws Exception {
        LoadedSettings before = runner.load(failing.seed(), List.of());
        Shrinker.Result s = new Shrinker(runner, strategy, kind, maxSteps, budget.toNanos(), o).shrink(List.of(), failing);
        LoadedSettings after = runner.load(s.seed(), s.sets());
        Path schedulePath = out.resolve("shrunk-schedule.gz");
        Path tracePath = out.resolve("shrunk-trace.json");
        s.schedule().write(schedulePath);
        Report.write(out.resolve("shrunk-report.json"), Report.build("explore", "deterministic", Main.version(),
                after.source(), after.settings(), s.run(), Expectations.judge(after.settings().expect(), s.run())));
        // The shrunk run once more, for its timeline: the same run (a replay of its own choices).
        Timeline timeline = TraceOptions.timeline(after.settings(), TraceOptions.DEFAULT_EVENTS);
        RunResult traced = DeterministicRunner.run(after, Strategy.replay(s.schedule()), StopRule.find(kind), maxSteps,
                null, timeline);
        PerfettoTrace.write(tracePath, timeline, 0, "shrunk " + after.source() + ", seed " + s.seed(),
                TraceOptions.metadata(traced, after.settings()));
        o.printf("shrink (%d test runs): %s%n", s.tests(), kind);
        o.printf("  original: %d vCPUs x %d tasks, %d NMI source(s), %,d steps, %d non-default choices, "
                        + "%d departing timing draws of %d, %,d vCPU events to the finding%n",
                before.settings().topology().vcpus(), before.settings().guest().tasksPerVcpu(),
                before.settings().nmi().sources().size(), s.original().size(), s.original().deviations(),
                s.original().drawDepartures(), s.original().draws().size(), s.originalEvents());
        o.printf("  shrunk:   %d vCPUs x %d tasks, %d NMI source(s), %,d steps, %d non-default choices, "
                        + "%d departing timing draws of %d, %,d vCPU events to the finding%n",
                after.settings().topology().vcpus(), after.settings().guest().tasksPerVcpu(),
                after.settings().nmi().sources().size(), s.schedule().size(), s.schedule().deviations(),
                s.schedule().drawDepartures(), s.schedule().draws().size(), s.events());
        s.schedule().draws().stream().filter(Schedule.Recorded::departs).forEach(d ->
                o.printf("    timing: %s = %,d ns (range %,d to %,d)%n", d.draw().describe(), d.value(), d.min(), d.max()));
        o.printf("  wrote %s, %s (open it in https://ui.perfetto.dev)%n", schedulePath, tracePath);
        List<String> all = new ArrayList<>(runner.sets());
        all.addAll(s.sets());
        o.println("Replay the shrunk run with:");
        o.println("  " + Main.invocation() + " replay " + quote(topology.toString()) + " --seed " + s.seed()
                + StopRule.find(kind).args() + setArgs(all) + maxStepsArg(maxSteps) + " --schedule "
                + quote(schedulePath.toString()));
        o.flush();
    }

    /** A failing run a search found: how it was made, its trace hash, and the node that ran it (null: this JVM). */
    private record Found(Explorer.Plan plan, String traceHash, String node) {}

    /**
     * How a search ended, on one JVM or a farm.
     *
     * @param nodes the farm's nodes and what each ran (empty on one JVM)
     */
    private record Search(long runs, double wallSeconds, Found found, Function<FindingKind, Estimate> estimates,
                          List<Farm.Node> nodes) {
        double runsPerSecond() {
            return runs / Math.max(1e-9, wallSeconds);
        }
    }

    /** What the progress display reads while a search runs. */
    /** @param nodes the farm's nodes at work (null on one JVM) */
    private record Counts(LongSupplier done, IntSupplier failing, Supplier<Map<FindingKind, Long>> findings,
                          IntSupplier nodes) {}

    /** Seeds {@code first} on, with a progress display, to the runs, the deadline or a failure. */
    private Search search(DeterministicRunner runner, StrategySpec strategy, StopRule stop, long maxSteps, int threads,
                          long first, long deadline, PrintWriter o, PrintWriter err) throws Exception {
        if (cluster || localCluster != null) {
            return farm(runner, strategy, stop, maxSteps, threads, first, deadline, o, err);
        }
        Explorer explorer = new Explorer(runner, strategy, stop, maxSteps, threads);
        stopWith(explorer::requestStop);
        Explorer.Outcome outcome = withProgress(new Counts(explorer::done, explorer::failing, explorer::findings, null),
                err,
                () -> explorer.run(first, runs, deadline));
        if (strategy.kind() == StrategySpec.Kind.windows) {
            o.printf("windows: the first run (seed %d) showed %s (its earliest, at most %,d in all); %d runs aimed at"
                            + " their boundaries, then pct%n", first,
                    explorer.windowsSeen().isEmpty() ? "no protocol window" : explorer.windowsSeen().entrySet().stream()
                            .map(e -> String.format("%,d %s", e.getValue(), e.getKey()))
                            .collect(Collectors.joining(", ")), WindowAims.WINDOWS_KEPT,
                    explorer.aims().size());
        }
        Explorer.Failure f = outcome.failure();
        return new Search(outcome.runs(), outcome.wallSeconds(),
                f == null ? null : new Found(f.plan(), f.result().traceHash(), null), explorer::estimate, List.of());
    }

    /**
     * The search farmed out (src/site/markdown/cluster.md): this JVM coordinates and works; with
     * {@code --local-cluster K} it starts K - 1 worker JVMs, with {@code --cluster} it prints how
     * workers join. Runs are the same as on one JVM: run {@code i} has seed {@code first + i}.
     */
    private Search farm(DeterministicRunner runner, StrategySpec strategy, StopRule stop, long maxSteps, int threads,
                        long first, long deadline, PrintWriter o, PrintWriter err) throws Exception {
        Job job = Job.of(topology, runner.forSeed(first), runner.sets(), strategy, stop, maxSteps, first);
        int workers = localCluster != null ? localCluster - 1 : 0;
        Duration limit = deadline == Long.MAX_VALUE ? null : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        Files.createDirectories(out);
        try (FarmSearch farm = new FarmSearch(job, runs, limit, address.bind, address.port(localCluster != null), "--port",
                threads, workers,
                threads, out, err)) {
            if (localCluster != null) {
                o.printf("explore: coordinating at %s with %d worker JVM(s) on this machine, %d thread(s) each"
                        + " (their output: %s)%n", farm.address(), workers, threads, out.resolve("node-*.log"));
            } else {
                o.printf("explore: coordinating at %s; workers join with:%n  %s node --join %s%s%n", farm.address(),
                        Main.invocation(), farm.address(), address.bindHint("WORKER"));
            }
            o.flush();
            stopWith(farm::halt);
            Farm.View view = farm.view();
            Farm.Outcome outcome = withProgress(new Counts(view::done, view::failing, view::findings, view::nodes), err,
                    farm::await);
            o.printf("explore: %d node(s):%n", outcome.nodes().size());
            for (Farm.Node n : outcome.nodes()) {
                o.printf("  %-21s pid %-8d %2d thread(s) %,10d runs%n", n.address(), n.pid(), n.threads(), n.runs());
            }
            o.flush();
            if (outcome.error() != null) {
                throw new NodeFailed(outcome.error());
            }
            Farm.FailedRun f = outcome.failure();
            return new Search(outcome.runs(), outcome.wallSeconds(), f == null ? null
                    : new Found(new Explorer.Plan(f.index(), f.seed(), strategy, null), f.traceHash(), f.node()),
                    view.tally()::estimate, outcome.nodes());
        }
    }

    /** A node of the farm could not run its runs: the emulator failed there (exit 3). */
    private static final class NodeFailed extends Exception {
        private static final long serialVersionUID = 1L;

        NodeFailed(String message) {
            super(message);
        }
    }

    private interface Searching<T> {
        T call() throws Exception;
    }

    /** Runs {@code search} with a progress display: a bar at a terminal, a plain line a second otherwise. */
    private <T> T withProgress(Counts counts, PrintWriter err, Searching<T> search) throws Exception {
        long started = System.nanoTime();
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "explore-progress");
            t.setDaemon(true);
            return t;
        });
        ProgressBar bar = ProgressDisplay.terminal() ? ProgressDisplay.bar("explore", runs, " runs", System.err) : null;
        ticker.scheduleAtFixedRate(() -> {
            if (bar != null) {
                bar.stepTo(counts.done().getAsLong());
                bar.setExtraMessage(" failing " + counts.failing().getAsInt());
            } else {
                err.println(progressLine(counts, runs, started));
                err.flush();
            }
        }, 1, 1, TimeUnit.SECONDS);
        T result;
        try {
            result = search.call();
        } finally {
            ticker.shutdownNow();
            if (bar != null) {
                bar.stepTo(counts.done().getAsLong());
                bar.close();
            }
        }
        spec.commandLine().getOut().println(progressLine(counts, runs, started));
        return result;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static String progressLine(Counts counts, long runs, long started) {
        double s = (System.nanoTime() - started) / 1e9;
        long done = counts.done().getAsLong();
        int failing = counts.failing().getAsInt();
        Map<FindingKind, Long> seen = counts.findings().get();
        String nodes = counts.nodes() == null ? "" : String.format(", %d node(s)", counts.nodes().getAsInt());
        return String.format("explore: %d/%d runs, %.1f s, %.2f runs/s%s, failing %d, findings %s", done, runs, s,
                done / Math.max(1e-9, s), nodes, failing, seen.isEmpty() ? "none" : seen.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
    }

    private static String setArgs(List<String> sets) {
        StringBuilder b = new StringBuilder();
        for (String s : sets) {
            if (!s.equals("run.report=\"\"")) {
                b.append(" --set ").append(quote(s));
            }
        }
        return b.toString();
    }

    private static String maxStepsArg(long maxSteps) {
        return maxSteps == Long.MAX_VALUE ? "" : " --max-steps " + maxSteps;
    }

    /** POSIX shell quoting, only where needed. */
    static String quote(String s) {
        return s.matches("[A-Za-z0-9_./:=@%+,-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    static Duration parseDuration(String option, String text) throws ConfigProblem {
        try {
            return Duration.ofNanos(com.typesafe.config.ConfigFactory.parseString("d=" + text).getDuration("d").toNanos());
        } catch (com.typesafe.config.ConfigException | DateTimeParseException e) {
            throw new ConfigProblem(option, null, "expected a duration such as 30s or 5m, got \"" + text + "\"");
        }
    }
}
