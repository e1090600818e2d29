package dev.vcpuemu.app;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.engine.io.AtomicFiles;
import dev.vcpuemu.app.scenario.HazardMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code matrix [--scenarios DIR] [--out FILE]}: runs every hazard scenario on every host/guest
 * pair and writes the hazard matrix page ({@link HazardMatrix}). Exit 1 when a scenario's own
 * expectations fail on its own pair.
 */
@Command(name = "matrix", description = "Run every hazard scenario on every host/guest pair and write the hazard matrix.")
final class MatrixCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--scenarios", paramLabel = "DIR", defaultValue = "conf/scenarios",
            description = "The scenario files (hazard-<numeral>-*.conf). Default: ${DEFAULT-VALUE}.")
    Path scenarios;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "src/site/markdown/hazard-matrix.md",
            description = "The page to write (empty: none). Default: ${DEFAULT-VALUE}.")
    String out;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isDirectory(scenarios)) {
            err.println("--scenarios: not a directory: " + scenarios);
            return Main.BAD_INPUT;
        }
        Path target = out.isEmpty() ? null : Path.of(out);
        if (target != null) {
            try {
                Conclusion.writablePath(target, "--out", err);
            } catch (Conclusion.BadInput b) {
                return Main.BAD_INPUT;
            }
        }
        List<HazardMatrix.Row> rows;
        try {
            rows = HazardMatrix.run(scenarios);
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }
        String page = HazardMatrix.markdown(rows, scenarios.toString().replace('\\', '/'));
        o.print(page);
        if (target != null) {
            AtomicFiles.writeString(target, page);
            o.println();
            o.println("Wrote " + target);
        }
        o.flush();
        return rows.stream().allMatch(r -> r.own() == null || r.own().met()) ? Main.OK : Main.EXPECTATION_FAILED;
    }
}
