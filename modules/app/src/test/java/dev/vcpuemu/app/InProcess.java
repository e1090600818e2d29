package dev.vcpuemu.app;

import java.io.PrintWriter;
import java.io.StringWriter;

/** A command run in the test's own JVM through picocli, as {@code main} would run it, its output captured. */
final class InProcess {
    /** How the command ended: its exit code and what it wrote. */
    record Outcome(int exit, String out, String err) {}

    private InProcess() {
    }

    static Outcome execute(String... args) {
        var cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }
}
