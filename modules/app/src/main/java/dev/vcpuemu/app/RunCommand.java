package dev.vcpuemu.app;

import dev.vcpuemu.app.cluster.ClusterBlock;
import dev.vcpuemu.app.cluster.Split;
import dev.vcpuemu.app.cluster.SplitJob;
import dev.vcpuemu.app.cluster.SplitRun;
import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.StrategySpec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.report.IntervalLine;
import dev.vcpuemu.app.store.RunStore;
import dev.vcpuemu.app.store.StoredRun;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.timeline.Timeline;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * {@code run [TOPOLOGY]}: one run, concurrent by default, deterministic on request. Options are applied as the last {@code --set}s,
 * so they win over the file. Ctrl-C or SIGTERM stops the run at the next quantum and the
 * report is still written before the JVM exits.
 */
@Command(name = "run", description = "Run one simulation (no file: the embedded default topology).")
final class RunCommand implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TOPOLOGY", description = "HOCON topology file.")
    Path topology;

    @Option(names = "--engine", paramLabel = "concurrent|deterministic", defaultValue = "concurrent",
            description = "concurrent: real threads, --duration is wall-clock time; deterministic: one seeded "
                    + "thread, --duration is simulated time, same seed same trace. Default: ${DEFAULT-VALUE}.")
    Engine engine;

    @Option(names = "--duration", paramLabel = "D",
            description = "Duration, e.g. 10s (run.duration): wall-clock for the concurrent engine, simulated for the deterministic one.")
    String duration;

    @Option(names = "--seed", paramLabel = "S", description = "Run seed (run.seed).")
    Long seed;

    @Option(names = "--report", paramLabel = "FILE", description = "JSON report file (run.report; empty: none). "
            + "Default: report.json in a new run directory in runs/ (a path ending in / is a results store).")
    String report;

    @Mixin
    TraceOptions trace;

    @Option(names = "--cluster-nodes", paramLabel = "K",
            description = "Run the simulation over K JVMs: this one and K-1 that join it (node --join, "
                    + "src/site/markdown/cluster.md); guest g runs on node g mod K.")
    Integer clusterNodes;

    @Option(names = "--local-cluster", paramLabel = "K",
            description = "Run the simulation over K JVMs on this machine: this one and K-1 it starts.")
    Integer localCluster;

    @Mixin
    ClusterAddress address;

    @Option(names = "--join-timeout", paramLabel = "T", defaultValue = "60s",
            description = "With a cluster: give up (exit 2) when the nodes have not all joined within T. Default: ${DEFAULT-VALUE}.")
    String joinTimeout;


    @Option(names = "--html", paramLabel = "FILE",
            description = "Also write a self-contained HTML report (charts of throughput, findings, latencies and per-vCPU time).")
    Path html;

    @Mixin
    StrategyOptions strategyOptions;

    @Mixin
    SetOptions setOptions;

    enum Engine { concurrent, deterministic }

    @Override
    public Integer call() throws InterruptedException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SetOptions.Typed all = setOptions.typed().option("--duration", duration, "run.duration")
                .option("--seed", seed, "run.seed").string("--report", report, "run.report");
        if (report != null && !report.isEmpty()) {
            try {
                Conclusion.writablePath(Path.of(report), "--report", err);
            } catch (Conclusion.BadInput b) {
                return Main.BAD_INPUT;
            }
        }
        LoadedSettings loaded;
        try {
            loaded = new SettingsLoader().load(Optional.ofNullable(topology), all.sets, all.typed);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }
        Settings s = loaded.settings();
        String problem = strategyOptions.problemForOneRun();
        if (problem == null) {
            problem = trace.problem();
        }
        if (problem == null) {
            problem = clusterProblem(s);
        }
        if (problem != null) {
            err.println(problem);
            return Main.BAD_INPUT;
        }
        Path reportPath;
        StoredRun stored;
        try {
            if (html != null) {
                Conclusion.writablePath(html, "--html", err);
            }
            stored = Stored.openForReport(spec, "run", engine.name(), loaded, err);
            reportPath = stored != null ? stored.report() : Conclusion.reportPath(loaded, err);
        } catch (Conclusion.BadInput b) {
            return Main.BAD_INPUT;
        }
        // In the results store the HTML report goes beside the JSON one (and an explicit --html is kept there too).
        Path asked = html;
        if (stored != null && html == null) {
            html = stored.html();
        }
        Intervals intervals = new Intervals();

        out.printf("vcpu-emu %s: %s, %s, %s %s, %s engine%s%n", Main.version(), loaded.source(),
                ValidateCommand.describe(s), ValidateCommand.human(s.run().duration()), engine == Engine.concurrent ? "wall" : "simulated",
                engine, engine == Engine.concurrent && clusterNodes == null && localCluster == null ? threads(s) : "");
        out.flush();
        if (engine == Engine.deterministic) {
            return Stored.finish(stored, deterministic(loaded, reportPath, stored, asked, intervals, out, err), err);
        }
        RunControl control = RunControl.wallClock(s.run().duration(), s.run().progressInterval());
        if (clusterNodes != null || localCluster != null) {
            return Stored.finish(stored, clustered(loaded, control, reportPath, stored, asked, intervals, out, err), err);
        }
        try (StopOnSignal signals = StopOnSignal.install(control)) {
            RunResult r;
            try (ProgressDisplay display = ProgressDisplay.of("run", s.run().duration().toNanos(), false,
                    ProgressDisplay.terminal(), System.err, err)) {
                Timeline timeline = trace.timeline(s);
                control.onStart(display::started);
                r = Simulation.run(s, loaded.config(), control, display.andThen(intervals), timeline);
                display.done(r);
                trace.write(timeline, "run " + loaded.source() + ", concurrent, seed " + s.run().seed(), r, s, out);
                Stored.keep(stored, trace.file, RunStore.TRACE, err);
            } catch (TimeoutException e) {
                err.println("vcpu-emu: emulator failure: the run did not end within " + s.run().duration()
                        + " + " + Simulation.GRACE.toSeconds() + " s");
                return signals.finish(Stored.finish(stored, Main.EMULATOR_FAILURE, err));
            }
            Expectations e = Expectations.judge(s.expect(), r);
            Integer failure = Conclusion.conclude("run", "concurrent", loaded, r, e, reportPath, html(intervals), out, err,
                    UnaryOperator.identity());
            Stored.keep(stored, asked, RunStore.HTML, err);
            return signals.finish(Stored.finish(stored, failure != null ? failure : e.met() ? Main.OK : Main.EXPECTATION_FAILED,
                    err));
        }
    }

    /**
     * {@code run --engine deterministic}: to its simulated duration, on one seeded thread.
     * A stop signal is still honoured (the run then ends at a quantum boundary, no longer
     * reproducible, and says "stopped").
     */
    private int deterministic(LoadedSettings loaded, Path reportPath, StoredRun stored, Path asked, Intervals intervals,
                              PrintWriter out, PrintWriter err)
            throws InterruptedException, IOException {
        Settings s = loaded.settings();
        RunControl control = DeterministicRunner.control(loaded, null, strategyOptions.maxStepsOrUnbounded());
        try (StopOnSignal signals = StopOnSignal.install(control)) {
            RunResult r;
            try (ProgressDisplay display = ProgressDisplay.of("run", s.run().duration().toNanos(), true,
                    ProgressDisplay.terminal(), System.err, err)) {
                Timeline timeline = trace.timeline(s);
                control.onStart(display::started);
                r = DeterministicRunner.run(loaded, strategyOptions.spec(StrategySpec.DEFAULT_HORIZON), control, null,
                        null, timeline, display.andThen(intervals));
                display.done(r);
                trace.write(timeline, "run " + loaded.source() + ", deterministic, seed " + s.run().seed(), r, s, out);
                Stored.keep(stored, trace.file, RunStore.TRACE, err);
            }
            Expectations e = Expectations.judge(s.expect(), r);
            Integer failure = Conclusion.conclude("run", "deterministic", loaded, r, e, reportPath, html(intervals), out,
                    err, UnaryOperator.identity());
            Stored.keep(stored, asked, RunStore.HTML, err);
            return signals.finish(failure != null ? failure : e.met() ? Main.OK : Main.EXPECTATION_FAILED);
        }
    }

    /** Null when the cluster options fit the rest, else the one-line problem. */
    private String clusterProblem(Settings s) {
        Integer k = clusterNodes != null ? clusterNodes : localCluster;
        String option = clusterNodes != null ? "--cluster-nodes" : "--local-cluster";
        if (clusterNodes != null && localCluster != null) {
            return "--cluster-nodes: waits for nodes to join; --local-cluster starts its own: choose one";
        }
        String portProblem = address.problem(k != null, "--cluster-nodes or --local-cluster");
        if (k == null || portProblem != null) {
            return portProblem;
        }
        if (k < 1) {
            return option + ": must be at least 1, got " + k;
        }
        if (k > s.topology().guests()) {
            return option + " " + k + ": more nodes than guests (" + s.topology().guests()
                    + "): a guest cannot be split over JVMs; set topology.guests to " + k + " or more";
        }
        if (engine == Engine.deterministic) {
            return option + ": the deterministic engine runs on one thread of one JVM; a cluster runs the concurrent engine";
        }
        if (trace.file != null) {
            return "--trace: the timeline is written by one JVM; not with " + option;
        }
        try {
            ExploreCommand.parseDuration("--join-timeout", joinTimeout);
        } catch (ConfigProblem p) {
            return p.getMessage();
        }
        return null;
    }

    /**
     * The run over several JVMs (src/site/markdown/cluster.md): this JVM coordinates and runs its
     * share of the guests; with {@code --local-cluster K} it starts K - 1 node JVMs, with
     * {@code --cluster-nodes K} it prints how nodes join and waits for them.
     */
    private int clustered(LoadedSettings loaded, RunControl control, Path reportPath, StoredRun stored, Path asked,
                          Intervals intervals, PrintWriter out, PrintWriter err) throws InterruptedException, IOException {
        Settings s = loaded.settings();
        int k = clusterNodes != null ? clusterNodes : localCluster;
        Path logDir = reportPath != null ? reportPath.toAbsolutePath().getParent() : Path.of(".");
        SplitJob job;
        try {
            job = SplitJob.of(topology != null ? topology : Path.of("default.conf"), loaded, k);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }
        Split.Outcome o;
        try (StopOnSignal signals = StopOnSignal.install(control);
             ProgressDisplay display = ProgressDisplay.of("run", s.run().duration().toNanos(), false,
                     ProgressDisplay.terminal(), System.err, err)) {
            control.onStart(display::started);
            SplitRun cluster;
            try {
                cluster = new SplitRun(job, s.engine().quantumNanos(), control, display.andThen(intervals), address.bind,
                        address.port(localCluster != null), "--port",
                        localCluster != null ? k - 1 : 0, logDir, ExploreCommand.parseDuration("--join-timeout", joinTimeout));
            } catch (ConfigProblem p) {
                err.println("run: " + p.getMessage());
                return Main.BAD_INPUT;
            }
            try (cluster) {
                if (localCluster != null) {
                    out.printf("run: coordinating at %s with %d node JVM(s) on this machine (their output: %s)%n",
                            cluster.address(), k - 1, logDir.resolve("node-*.log"));
                } else {
                    out.printf("run: coordinating at %s; %d node(s) join with:%n  %s node --join %s%s%n", cluster.address(),
                            k - 1, Main.invocation(), cluster.address(), address.bindHint("NODE"));
                }
                out.flush();
                try {
                    o = cluster.await(s.run().duration(), Simulation.GRACE);
                } catch (TimeoutException e) {
                    err.println("vcpu-emu: emulator failure: the run over " + k + " JVMs did not end within "
                            + s.run().duration() + " + " + Simulation.GRACE.toSeconds() + " s");
                    return signals.finish(Main.EMULATOR_FAILURE);
                }
                if (o.badInput() != null) {
                    err.println("run: " + o.badInput());
                    return Main.BAD_INPUT;
                }
                display.done(o.result());
            }
            RunResult r = o.result();
            Expectations e = Expectations.judge(s.expect(), r);
            Integer failure = Conclusion.conclude("run", "concurrent", loaded, r, e, reportPath, html(intervals), out, err,
                    report -> ClusterBlock.put(report, o));
            Stored.keep(stored, asked, RunStore.HTML, err);
            if (o.partial()) {
                err.println("vcpu-emu: the run was cut short: " + r.endReason());
                return signals.finish(Main.EMULATOR_FAILURE);
            }
            return signals.finish(failure != null ? failure : e.met() ? Main.OK : Main.EXPECTATION_FAILED);
        }
    }

    private Conclusion.Html html(Intervals intervals) {
        return html == null ? null : new Conclusion.Html(html, intervals::lines,
                spec.root().commandLine().getParseResult().originalArgs(), trace.file);
    }

    /** The run's progress samples as interval lines, for the HTML report's charts (only kept with {@code --html}). */
    private final class Intervals implements Consumer<Progress> {
        private final List<ObjectNode> lines = new ArrayList<>();
        private Progress previous;

        @Override
        public void accept(Progress p) {
            if (html != null) {
                lines.add(IntervalLine.of(lines.size() + 1, p, previous));
                previous = p;
            }
        }

        List<ObjectNode> lines() {
            return lines;
        }
    }

    /** How many threads the concurrent engine runs on, and why that many when the topology chose. */
    static String threads(Settings s) {
        int n = Simulation.threads(s);
        return " on " + n + (n == 1 ? " thread" : " threads")
                + (s.engine().parallelism() > 0 ? "" : " (chosen from the topology: engine.parallelism = 0)");
    }
}
