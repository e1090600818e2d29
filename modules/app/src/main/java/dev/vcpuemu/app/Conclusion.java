package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.report.HtmlReport;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.RunResult;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/** The end of every command that runs a simulation: report file, summary, emulator failures. */
final class Conclusion {
    private Conclusion() {
    }

    /** The report path of the settings, null for none; bad input (an unwritable directory) is printed and thrown. */
    static Path reportPath(LoadedSettings loaded, PrintWriter err) throws BadInput {
        String report = loaded.settings().run().report();
        if (report.isEmpty()) {
            return null;
        }
        Path path = Path.of(report);
        if (!writableDir(path)) {
            err.println(loaded.source() + ": vcpu-emu.run.report: cannot write a report into " + path.toAbsolutePath().getParent());
            throw new BadInput();
        }
        return path;
    }

    /**
     * Writes the report (atomically) and prints the summary. Returns the emulator-failure exit
     * code if the emulator failed, the report cannot be written or conservation broke, else
     * null: the caller decides. A failed emulator's report goes beside the report path
     * ({@link #faultReportPath}), so that an earlier good report is not replaced by it.
     */
    static Integer conclude(String command, String engine, LoadedSettings loaded, RunResult r, Expectations e,
                            Path reportPath, PrintWriter out, PrintWriter err) {
        return conclude(command, engine, loaded, r, e, reportPath, out, err, UnaryOperator.identity());
    }

    /** As above, with {@code extra} adding the command's own fields to the report. */
    static Integer conclude(String command, String engine, LoadedSettings loaded, RunResult r, Expectations e,
                            Path reportPath, PrintWriter out, PrintWriter err, UnaryOperator<ObjectNode> extra) {
        return conclude(command, engine, loaded, r, e, reportPath, null, out, err, extra);
    }

    /**
     * An HTML report to write beside the JSON one: where, the run's progress intervals for its
     * charts, the command's arguments as typed (for its header) and its timeline file (or null).
     */
    record Html(Path path, Supplier<List<? extends JsonNode>> intervals, List<String> args, Path trace) {}

    /** As above, also writing the HTML report when {@code html} is not null. */
    static Integer conclude(String command, String engine, LoadedSettings loaded, RunResult r, Expectations e,
                            Path reportPath, Html html, PrintWriter out, PrintWriter err, UnaryOperator<ObjectNode> extra) {
        if (r.fault() != null) {
            if (html != null) {
                err.println("vcpu-emu: " + html.path() + " not written: the emulator failed (the fault report says how)");
            }
            return fault(command, engine, loaded, r, e, reportPath, err, extra);
        }
        ObjectNode report = extra.apply(Report.build(command, engine, Main.version(), loaded.source(), loaded.settings(), r, e));
        if (reportPath != null) {
            try {
                Report.write(reportPath, report);
            } catch (IOException io) {
                err.println("vcpu-emu: cannot write report " + reportPath + ": " + io.getMessage());
                return Main.EMULATOR_FAILURE;
            }
        }
        if (html != null) {
            try {
                HtmlReport.write(html.path(), report, html.intervals().get(), provenance(html, engine, r, loaded));
                out.println("HTML report: " + html.path());
            } catch (IOException io) {
                err.println("vcpu-emu: cannot write HTML report " + html.path() + ": " + io.getMessage());
                return Main.EMULATOR_FAILURE;
            }
        }
        Summary.print(out, r, e, reportPath == null ? null : reportPath.toString());
        out.flush();
        if (!r.conservation().held()) {
            // A run cut short (a node lost) says why itself; only a checked conservation can be broken.
            if (r.conservation().checked()) {
                err.println("vcpu-emu: emulator failure: conservation broken: " + r.conservation().detail());
            }
            return Main.EMULATOR_FAILURE;
        }
        return null;
    }

    /** The HTML report's header: build, command line and, for a run that can be repeated exactly, how. */
    static HtmlReport.Provenance provenance(Html html, String engine, RunResult r, LoadedSettings loaded) {
        String commandLine = Main.invocation() + html.args().stream().map(a -> " " + ExploreCommand.quote(a))
                .collect(Collectors.joining());
        // Same configuration, seed and version: the same trace (DESIGN §3); a stopped run ended where a signal fell.
        boolean repeatable = engine.equals("deterministic") && r.traceHash() != null && !r.endReason().equals("stopped");
        boolean seeded = html.args().stream().anyMatch(a -> a.equals("--seed") || a.startsWith("--seed="));
        String replay = !repeatable ? null : seeded ? commandLine : commandLine + " --seed " + loaded.settings().run().seed();
        return new HtmlReport.Provenance(Main.version(), HtmlReport.buildCommit(), HtmlReport.buildDate(), Instant.now(),
                commandLine, replay, html.trace());
    }

    /** A file option's path if its directory can be written, else bad input (printed and thrown). */
    static Path writablePath(Path path, String option, PrintWriter err) throws BadInput {
        String problem = unwritable(path, option);
        if (problem != null) {
            err.println(problem);
            throw new BadInput();
        }
        return path;
    }

    /** The one-line problem with writing {@code path} for {@code option}, or null when its directory takes it. */
    static String unwritable(Path path, String option) {
        return writableDir(path) ? null
                : option + ": cannot write " + path.getFileName() + " into " + path.toAbsolutePath().getParent();
    }

    private static boolean writableDir(Path path) {
        Path dir = path.toAbsolutePath().getParent();
        return dir != null && Files.isDirectory(dir) && Files.isWritable(dir);
    }

    /** Where the report of a run the emulator failed in is written: {@code NAME.fault.json} beside {@code NAME.json}. */
    static Path faultReportPath(Path reportPath) {
        String name = reportPath.getFileName().toString();
        String stem = name.endsWith(".json") ? name.substring(0, name.length() - ".json".length()) : name;
        return reportPath.resolveSibling(stem + ".fault.json");
    }

    private static int fault(String command, String engine, LoadedSettings loaded, RunResult r, Expectations e,
                             Path reportPath, PrintWriter err, UnaryOperator<ObjectNode> extra) {
        RunResult.Fault f = r.fault();
        err.println("vcpu-emu: emulator failure in " + f.actor() + " after " + String.format("%.1f", r.wallSeconds())
                + " s: " + f.error());
        f.stackTrace().stream().limit(12).forEach(line -> err.println("    " + line));
        if (!f.lastEvents().isEmpty()) {
            err.println("  last events of " + f.actor() + ":");
            f.lastEvents().forEach(line -> err.println("    " + line));
        }
        if (reportPath != null) {
            Path target = faultReportPath(reportPath);
            try {
                Report.write(target, extra.apply(Report.build(command, engine, Main.version(), loaded.source(),
                        loaded.settings(), r, e)));
                err.println("Fault report: " + target);
            } catch (IOException io) {
                err.println("vcpu-emu: cannot write report " + target + ": " + io.getMessage());
            }
        }
        err.flush();
        return Main.EMULATOR_FAILURE;
    }

    /** Bad input already reported on stderr: exit 2. */
    static final class BadInput extends Exception {
        BadInput() {
            super(null, null, false, false);
        }
    }
}
