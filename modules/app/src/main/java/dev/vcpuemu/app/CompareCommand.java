package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vcpuemu.engine.io.AtomicFiles;
import dev.vcpuemu.app.store.Comparison;
import dev.vcpuemu.app.store.RunStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code compare A B}: two reports, or two bench results, side by side with their differences
 * ({@link Comparison}), as text and optionally as an HTML page. Exit 0, or 2 when either side
 * is missing or not a report.
 */
@Command(name = "compare", description = "Put two reports (or two bench results) side by side: counters, findings and "
        + "latency percentiles with their differences.")
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "A",
            description = "A report file, a run directory, latest, or a run directory's name in runs/.")
    String a;

    @Parameters(index = "1", paramLabel = "B", description = "The same for the other side; differences are B - A.")
    String b;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write the comparison as an HTML page.")
    Path html;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Comparison c;
        try {
            if (html != null) {
                Conclusion.writablePath(html, "--html", err);
            }
            c = Comparison.of(side("A", a), side("B", b));
        } catch (Comparison.Problem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        } catch (Conclusion.BadInput bad) {
            return Main.BAD_INPUT;
        }
        out.print(c.text());
        if (html != null) {
            AtomicFiles.writeString(html, c.html());
            out.println();
            out.println("HTML: " + html);
        }
        out.flush();
        return Main.OK;
    }

    private static Comparison.Side side(String label, String ref) throws Comparison.Problem {
        Path file = Comparison.locate(ref, RunStore.DEFAULT_ROOT);
        JsonNode report = Comparison.read(file);
        return new Comparison.Side(label, file, report);
    }
}
