package dev.vcpuemu.app;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.soak.SoakLog;
import dev.vcpuemu.app.store.RunStore;
import dev.vcpuemu.app.store.StoredRun;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * {@code soak TOPOLOGY --duration D --out DIR [--interval I]}: a long run (hours work) that
 * leaves, at every interval, a checkpoint {@code DIR/report.json} and one line of
 * {@code DIR/intervals.jsonl} ({@link SoakLog}), and at the end the final report there, with
 * the heap trend. SIGTERM or Ctrl-C stops it at the next quantum and still writes the final
 * report; {@code kill -9} loses only the current interval. The exit code follows the
 * expectations, as for {@code run}.
 */
@Command(name = "soak", description = "A long run: a checkpoint report and one JSON line per interval in DIR; "
        + "SIGTERM or Ctrl-C stops it cleanly with the final report.")
final class SoakCommand implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TOPOLOGY", description = "HOCON topology file.")
    Path topology;

    @Option(names = "--duration", required = true, paramLabel = "D",
            description = "How long, e.g. 2h (wall clock; simulated time with --engine deterministic).")
    String duration;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Directory for report.json and intervals.jsonl (created if missing). "
                    + "Default: a new run directory in runs/.")
    Path out;

    @Option(names = "--interval", paramLabel = "I", defaultValue = "10s",
            description = "Checkpoint interval (run.progress-interval). Default: ${DEFAULT-VALUE}.")
    String interval;

    @Option(names = "--engine", paramLabel = "concurrent|deterministic", defaultValue = "concurrent",
            description = "Default: ${DEFAULT-VALUE}.")
    RunCommand.Engine engine;

    @Option(names = "--seed", paramLabel = "S", description = "Run seed (run.seed).")
    Long seed;

    @Mixin
    SetOptions setOptions;

    @Override
    public Integer call() throws InterruptedException, IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SetOptions.Typed sets = setOptions.typed().option("--duration", duration, "run.duration")
                .option("--interval", interval, "run.progress-interval");
        sets.sets.add("run.report=\"\"");
        sets.option("--seed", seed, "run.seed");
        LoadedSettings loaded;
        try {
            loaded = new SettingsLoader().load(Optional.ofNullable(topology), sets.sets, sets.typed);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }
        StoredRun stored = null;
        if (out == null) {
            try {
                stored = Stored.open(spec, "soak", engine.name(), loaded, RunStore.DEFAULT_ROOT, err);
            } catch (Conclusion.BadInput b) {
                return Main.BAD_INPUT;
            }
            out = stored.dir();
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            err.println("--out: not a directory: " + out);
            return Main.BAD_INPUT;
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            err.println("--out: cannot create directory " + out + ": " + e.getMessage());
            return Main.BAD_INPUT;
        }
        Settings s = loaded.settings();
        o.printf("vcpu-emu %s soak: %s, %s, %s %s, %s engine, checkpoint every %s into %s%n", Main.version(),
                loaded.source(), ValidateCommand.describe(s), ValidateCommand.human(s.run().duration()),
                engine == RunCommand.Engine.concurrent ? "wall" : "simulated", engine,
                ValidateCommand.human(s.run().progressInterval()), out);
        o.flush();

        RunControl control = engine == RunCommand.Engine.concurrent
                ? RunControl.wallClock(s.run().duration(), s.run().progressInterval())
                : RunControl.virtualTime(s.run().duration(), s.run().progressInterval());
        control.countMailboxBacklog();
        try (StopOnSignal signals = StopOnSignal.install(control);
             SoakLog log = new SoakLog(out, loaded.source(), engine.name(), Main.version(), s, BenchCommand.actors(s))) {
            RunResult r;
            try (ProgressDisplay display = ProgressDisplay.of("soak", s.run().duration().toNanos(),
                    engine == RunCommand.Engine.deterministic, ProgressDisplay.terminal(), System.err, err)) {
                control.onStart(display::started);
                Consumer<Progress> progress = display.andThen(log::accept);
                r = engine == RunCommand.Engine.concurrent
                        ? Simulation.run(s, loaded.config(), control, progress)
                        : Simulation.runDeterministic(s, loaded.config(), control, progress,
                        Strategy.uniform(s.run().seed()), null, null);
                display.done(r);
            } catch (TimeoutException e) {
                err.println("vcpu-emu: emulator failure: the run did not end within " + s.run().duration() + " + "
                        + Simulation.GRACE.toSeconds() + " s");
                return signals.finish(Stored.finish(stored, Main.EMULATOR_FAILURE, err));
            }
            log.drain();
            Expectations e = Expectations.judge(s.expect(), r);
            Conclusion.Html html = new Conclusion.Html(out.resolve(SoakLog.HTML), () -> {
                try {
                    return log.intervalLines();
                } catch (IOException io) {
                    throw new UncheckedIOException(io);
                }
            }, spec.root().commandLine().getParseResult().originalArgs(), null);
            Integer failure = Conclusion.conclude("soak", engine.name(), loaded, r, e, out.resolve(SoakLog.REPORT), html, o,
                    err, report -> {
                        report.put("checkpoint", false);
                        report.set("soak", log.summary());
                        return report;
                    });
            o.println("Soak: " + log.summary().get("intervals").asLong() + " intervals; " + log.heapTrendLine());
            o.flush();
            log.close();
            return signals.finish(Stored.finish(stored, failure != null ? failure : e.met() ? Main.OK : Main.EXPECTATION_FAILED,
                    err));
        }
    }
}
