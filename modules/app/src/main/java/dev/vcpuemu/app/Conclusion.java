package dev.vcpuemu.app;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.RunResult;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

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
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            err.println(loaded.source() + ": vcpu-emu.run.report: cannot write a report into " + dir);
            throw new BadInput();
        }
        return path;
    }

    /**
     * Writes the report (atomically) and prints the summary. Returns the emulator-failure exit
     * code if the report cannot be written or conservation broke, else null: the caller decides.
     */
    static Integer conclude(String command, String engine, LoadedSettings loaded, RunResult r, Expectations e,
                            Path reportPath, PrintWriter out, PrintWriter err) {
        if (reportPath != null) {
            try {
                Report.write(reportPath, Report.build(command, engine, Main.version(), loaded.source(),
                        loaded.settings(), r, e));
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
        return null;
    }

    /** Bad input already reported on stderr: exit 2. */
    static final class BadInput extends Exception {
        BadInput() {
            super(null, null, false, false);
        }
    }
}
