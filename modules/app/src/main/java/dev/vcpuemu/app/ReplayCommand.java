package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.store.RunStore;
import dev.vcpuemu.app.store.StoredRun;
import dev.vcpuemu.engine.det.Divergence;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code replay TOPOLOGY --seed S [--schedule FILE] [--trace FILE]}: one deterministic run,
 * stopped where explore stops (the first finding of {@code --find KIND}, else the first
 * unexpected one), so the printed replay command of explore gives the same findings, vCPU,
 * virtual time and trace hash. With a schedule file the recorded choices are followed instead
 * of the strategy's generator. Exit code 1 when the run fails by that rule (the failure was
 * reproduced), 0 when it does not. A schedule that does not fit the run is named with its first
 * divergent step on stderr and in the report; with {@code --strict} it is bad input (exit 2).
 */
@Command(name = "replay", description = "Re-run one seed deterministically, optionally following a recorded schedule.")
final class ReplayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPOLOGY", description = "HOCON topology file.")
    Path topology;

    @Option(names = "--seed", paramLabel = "S", required = true, description = "Run seed to replay.")
    long seed;

    @Option(names = "--schedule", paramLabel = "FILE", description = "Follow the scheduling choices recorded in FILE.")
    Path schedule;

    @Option(names = "--strict", description = "A --schedule that does not fit this run (a choice beyond the mailboxes"
            + " ready at its step, too few or too many choices) is bad input: exit 2 with its first divergent step,"
            + " and no report, trace or --schedule-out written. Without it the run is replayed on and reported.")
    boolean strict;

    @Option(names = "--schedule-out", paramLabel = "FILE", description = "Record this run's scheduling choices to FILE.")
    Path scheduleOut;

    @Mixin
    TraceOptions trace;

    @Option(names = "--find", paramLabel = "KIND", converter = FindingKindConverter.class,
            description = "Stop at the first finding of KIND (as explore --find)."
                    + " Any case, with - or _ (lost-wakeup, LOST_WAKEUP).")
    FindingKind find;

    @Option(names = "--duration", paramLabel = "D", description = "Simulated duration (run.duration).")
    String duration;

    @Option(names = "--report", paramLabel = "FILE", description = "JSON report file (run.report; empty: none). "
            + "Default: report.json in a new run directory in runs/ (a path ending in / is a results store).")
    String report;

    @Mixin
    StrategyOptions strategyOptions;

    @Mixin
    SetOptions setOptions;

    @Override
    public Integer call() throws InterruptedException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SetOptions.Typed options = new SetOptions.Typed(List.of()).option("--duration", duration, "run.duration")
                .string("--report", report, "run.report");
        SetOptions.Typed typed = setOptions.typed().option("--duration", duration, "run.duration")
                .string("--report", report, "run.report").option("--seed", seed, "run.seed");
        DeterministicRunner runner = new DeterministicRunner(Optional.of(topology), setOptions.sets);
        LoadedSettings loaded;
        Path reportPath;
        Schedule choices = null;
        try {
            if (report != null && !report.isEmpty()) {
                Conclusion.writablePath(Path.of(report), "--report", err);
            }
            // The runner's own load, once the options' values are known good: a bad one names its option.
            new SettingsLoader().load(Optional.of(topology), typed.sets, typed.typed);
            loaded = runner.load(seed, options.sets);
            reportPath = Conclusion.reportPath(loaded, err);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        } catch (Conclusion.BadInput b) {
            return Main.BAD_INPUT;
        }
        String problem = strategyOptions.problemForOneRun();
        if (problem == null) {
            problem = trace.problem();
        }
        if (problem != null) {
            err.println(problem);
            return Main.BAD_INPUT;
        }
        if (strict && schedule == null) {
            err.println("--strict: needs --schedule (it checks a recorded schedule against the run)");
            return Main.BAD_INPUT;
        }
        if (schedule != null) {
            if (!Files.isRegularFile(schedule)) {
                err.println(schedule + ": --schedule: no such file");
                return Main.BAD_INPUT;
            }
            try {
                choices = Schedule.read(schedule);
            } catch (IOException e) {
                err.println(schedule + ": --schedule: " + e.getMessage());
                return Main.BAD_INPUT;
            }
        }
        StoredRun stored;
        try {
            stored = Stored.openForReport(spec, "replay", "deterministic", loaded, err);
        } catch (Conclusion.BadInput b) {
            return Main.BAD_INPUT;
        }
        if (stored != null) {
            reportPath = stored.report();
        }
        StopRule stop = find != null ? StopRule.find(find) : StopRule.unexpected(loaded.settings().expect());
        StrategySpec strategy = strategyOptions.spec(StrategySpec.DEFAULT_HORIZON);
        out.printf("vcpu-emu %s: replay %s, %s, %s simulated, %s, stop at %s%n", Main.version(), loaded.source(),
                ValidateCommand.describe(loaded.settings()), ValidateCommand.human(loaded.settings().run().duration()),
                choices != null ? "schedule " + schedule + " (" + choices.size() + " steps)" : "strategy " + strategy.describe(),
                stop.describe());
        out.flush();

        Schedule record = scheduleOut == null ? null : new Schedule();
        Strategy.Replay follow = choices == null ? null : Strategy.replay(choices);
        Timeline timeline = trace.timeline(loaded.settings());
        RunResult r = DeterministicRunner.run(loaded,
                follow != null ? follow : strategy.create(loaded.settings().run().seed(), null), stop,
                strategyOptions.maxStepsOrUnbounded(), record, timeline);
        Divergence diverged = follow == null ? null : follow.divergence();
        if (diverged != null) {
            err.println(misfit(schedule, diverged, strict));
            err.flush();
            if (strict) {
                return Stored.finish(stored, Main.BAD_INPUT, err);
            }
        }
        trace.write(timeline, "replay " + loaded.source() + ", seed " + loaded.settings().run().seed(), r,
                loaded.settings(), out);
        Stored.keep(stored, trace.file, RunStore.TRACE, err);
        if (record != null) {
            record.write(scheduleOut);
            out.println("Schedule: " + scheduleOut + " (" + record.size() + " steps, " + record.draws().size()
                    + " timing draws)");
        }
        Expectations e = Expectations.judge(loaded.settings().expect(), r);
        ObjectNode followed = choices == null ? null : scheduleNode(schedule, choices, diverged);
        Integer failure = Conclusion.conclude("replay", "deterministic", loaded, r, e, reportPath, out, err,
                report -> followed == null ? report : report.set("schedule", followed));
        if (failure != null) {
            return Stored.finish(stored, failure, err);
        }
        boolean failed = stop.failed(r);
        out.println(verdict(find, loaded.settings().expect().isEmpty(), e.met(), failed, r.endReason()));
        return Stored.finish(stored, failed ? Main.EXPECTATION_FAILED : Main.OK, err);
    }

    /** The one line that says a schedule does not fit the run: its file, the first divergent step, what was done. */
    static String misfit(Path file, Divergence d, boolean strict) {
        String then = strict ? "--strict: nothing written"
                : switch (d.kind()) {
                    case CHOICE_OUT_OF_RANGE -> "replayed on, slot 0 wherever a recorded choice does not fit";
                    case SCHEDULE_EXHAUSTED -> "replayed on with the default choice (slot 0) from there";
                    case RUN_ENDED -> "the rest is ignored";
                    case DRAW_MISSING, DRAW_OUT_OF_RANGE ->
                            "replayed on, the actor's own draw wherever a recorded value is missing or does not fit";
                };
        return file + " does not fit this run: " + d.describe() + "; " + then;
    }

    /** The report's {@code schedule}: the file followed, its length, and where it first did not fit (null: it fitted). */
    private static ObjectNode scheduleNode(Path file, Schedule choices, Divergence d) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("file", file.toString());
        node.put("steps", choices.size());
        node.put("draws", choices.draws().size());
        node.put("fits", d == null);
        if (d == null) {
            node.putNull("divergence");
        } else {
            ObjectNode at = node.putObject("divergence");
            at.put("kind", d.kind().name());
            at.put("step", d.step());
            if (d.choice() >= 0) {
                at.put("choice", d.choice());
            }
            if (d.ready() > 0) {
                at.put("ready", d.ready());
            }
            at.put("detail", d.describe());
        }
        return node;
    }

    /**
     * The one line that says why replay exits 1 or 0: it judges the run by explore's rule (the
     * first {@code --find} kind, else the expectations, else any finding), which can fail a run
     * whose expectations the summary just called met.
     */
    static String verdict(FindingKind find, boolean noExpectBlock, boolean expectationsMet, boolean failed,
                          String endReason) {
        String ended = " (the run ended: " + endReason + ")";
        if (find != null) {
            return failed
                    ? "Exit 1: the failure is reproduced: the run found " + find + ", which --find " + find
                            + " looks for, whatever the expectations say" + ended
                    : "Exit 0: not reproduced: no " + find + " in this run" + ended;
        }
        if (failed) {
            return noExpectBlock
                    ? "Exit 1: the failure is reproduced: a finding appeared, and without an expect block every finding fails"
                            + ended
                    : "Exit 1: the failure is reproduced: " + (expectationsMet ? "a finding the expect block forbids appeared"
                            : "the topology's expectations are not met") + ended;
        }
        return "Exit 0: not reproduced: " + (noExpectBlock ? "no finding" : "the expectations hold") + ended;
    }
}
