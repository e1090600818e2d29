package dev.vcpuemu.app;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.trace.PerfettoTrace;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.timeline.Timeline;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --trace FILE} and its bounds, shared by {@code run} and {@code replay}. */
final class TraceOptions {
    static final long DEFAULT_EVENTS = 1_000_000;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Write a timeline as Chrome trace event JSON (open it in ui.perfetto.dev or chrome://tracing): "
                    + "tracks per vCPU, task stack, host half and paging worker; handler, task, halt and stall slices; "
                    + "token spans and not-present to page-ready arrows; findings marked. Either engine.")
    Path file;

    @Option(names = "--trace-events", paramLabel = "N", defaultValue = "" + DEFAULT_EVENTS,
            description = "Keep the last N events of the run in all, split evenly over the tracks. Default: ${DEFAULT-VALUE}.")
    long maxEvents;

    @Option(names = "--trace-window", paramLabel = "D",
            description = "Keep only the events of the last D of simulated time, e.g. 2ms. Default: all that --trace-events keeps.")
    String window;

    /** The window parsed by {@link #problem}, in virtual nanoseconds (0: no window). */
    private long windowNanos;

    /** A bad option value or an unwritable trace file, as the one line to print, or null; call it before {@link #write}. */
    String problem() {
        if (file == null) {
            return null;
        }
        if (maxEvents < 1) {
            return "--trace-events: expected a positive number of events, got " + maxEvents;
        }
        try {
            windowNanos = window == null ? 0 : ExploreCommand.parseDuration("--trace-window", window).toNanos();
        } catch (ConfigProblem p) {
            return p.getMessage();
        }
        return Conclusion.unwritable(file, "--trace");
    }

    /** An empty timeline for the run, or null when no trace was asked for. */
    Timeline timeline(Settings s) {
        return file == null ? null : timeline(s, maxEvents);
    }

    static Timeline timeline(Settings s, long maxEvents) {
        return new Timeline(s.topology().guests(), s.topology().vcpus(), s.host().pagingWorkers(), maxEvents);
    }

    /** Writes the run's timeline, when one was asked for, and says so. */
    void write(Timeline timeline, String title, RunResult r, Settings s, PrintWriter out) throws IOException {
        if (timeline == null) {
            return;
        }
        report(file, PerfettoTrace.write(file, timeline, windowNanos, title, metadata(r, s)), out);
    }

    /** What the trace file's metadata says about the run: version, seed and, deterministic runs only, hashes. */
    static Map<String, Object> metadata(RunResult r, Settings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", Main.version());
        m.put("seed", s.run().seed());
        m.put("traceHash", r.traceHash());
        m.put("modelHash", r.modelHash());
        m.put("endReason", r.endReason());
        return m;
    }

    static void report(Path file, PerfettoTrace.Written w, PrintWriter out) {
        out.printf("Trace: %s (%,d trace events from the last %,d model events%s%s)%n", file, w.events(), w.kept(),
                w.dropped() > 0 ? String.format("; %,d older ones dropped by --trace-events", w.dropped()) : "",
                w.cut() > 0 ? String.format("; every track from %.3f ms, where the fullest one begins (%,d earlier events "
                        + "of the others left out)", w.fromNanos() / 1e6, w.cut()) : "");
    }
}
