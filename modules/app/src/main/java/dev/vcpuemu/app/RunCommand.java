package dev.vcpuemu.app;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.run.Simulation;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code run [TOPOLOGY]}: one concurrent run. Options are applied as the last {@code --set}s,
 * so they win over the file. Ctrl-C or SIGTERM stops the run at the next quantum and the
 * report is still written before the JVM exits.
 */
@Command(name = "run", description = "Run one simulation (no file: the embedded default topology).")
final class RunCommand implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TOPOLOGY", description = "HOCON topology file.")
    Path topology;

    @Option(names = "--duration", paramLabel = "D", description = "Wall-clock duration, e.g. 10s (run.duration).")
    String duration;

    @Option(names = "--seed", paramLabel = "S", description = "Run seed (run.seed).")
    Long seed;

    @Option(names = "--report", paramLabel = "FILE", description = "JSON report file (run.report; empty: none).")
    String report;

    @Mixin
    SetOptions setOptions;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> all = new ArrayList<>(setOptions.sets);
        if (duration != null) {
            all.add("run.duration=" + duration);
        }
        if (seed != null) {
            all.add("run.seed=" + seed);
        }
        if (report != null) {
            all.add("run.report=\"" + report.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
        }
        LoadedSettings loaded;
        try {
            loaded = new SettingsLoader().load(Optional.ofNullable(topology), all);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }
        Settings s = loaded.settings();
        Path reportPath = s.run().report().isEmpty() ? null : Path.of(s.run().report());
        if (reportPath != null) {
            Path dir = reportPath.toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
                err.println(loaded.source() + ": vcpu-emu.run.report: cannot write a report into " + dir);
                return Main.BAD_INPUT;
            }
        }

        out.printf("vcpu-emu %s: %s, %s, %s wall%n", Main.version(), loaded.source(), ValidateCommand.describe(s),
                s.run().duration());
        out.flush();
        RunControl control = RunControl.wallClock(s.run().duration(), s.run().progressInterval());
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            control.requestStop();
            try {
                reported.await(Simulation.GRACE.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "vcpu-emu-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            RunResult r;
            try {
                r = Simulation.run(s, loaded.config(), control, p -> {
                    err.println(Summary.progressLine(p));
                    err.flush();
                });
            } catch (TimeoutException e) {
                err.println("vcpu-emu: emulator failure: the run did not end within " + s.run().duration()
                        + " + " + Simulation.GRACE.toSeconds() + " s");
                return Main.EMULATOR_FAILURE;
            }
            Expectations e = Expectations.judge(s.expect(), r);
            if (reportPath != null) {
                try {
                    Report.write(reportPath, Report.build("run", Main.version(), loaded.source(), s, r, e));
                } catch (IOException io) {
                    err.println("vcpu-emu: cannot write report " + reportPath + ": " + io.getMessage());
                    return Main.EMULATOR_FAILURE;
                }
            }
            Summary.print(out, r, e, reportPath == null ? null : reportPath.toString());
            out.flush();
            if (!r.conservation().held()) {
                err.println("vcpu-emu: emulator failure: conservation broken: " + r.conservation().detail());
                return Main.EMULATOR_FAILURE;
            }
            return e.met() ? Main.OK : Main.EXPECTATION_FAILED;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is already exiting because of a signal; the hook is running.
            }
        }
    }
}
