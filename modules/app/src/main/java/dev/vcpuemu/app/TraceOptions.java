package dev.vcpuemu.app;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.trace.PerfettoTrace;
import dev.vcpuemu.engine.timeline.Timeline;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

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

    /** A bad option value, as the one line to print, or null. */
    String problem() {
        if (file == null) {
            return null;
        }
        if (maxEvents < 1) {
            return "--trace-events: expected a positive number of events, got " + maxEvents;
        }
        try {
            windowNanos();
        } catch (ConfigProblem p) {
            return p.getMessage();
        }
        return null;
    }

    /** An empty timeline for the run, or null when no trace was asked for. */
    Timeline timeline(Settings s) {
        return file == null ? null : timeline(s, maxEvents);
    }

    static Timeline timeline(Settings s, long maxEvents) {
        return new Timeline(s.topology().guests(), s.topology().vcpus(), s.host().pagingWorkers(), maxEvents);
    }

    long windowNanos() throws ConfigProblem {
        return window == null ? 0 : ExploreCommand.parseDuration("--trace-window", window).toNanos();
    }

    /** Writes the run's timeline, when one was asked for, and says so. */
    void write(Timeline timeline, String title, PrintWriter out) throws IOException {
        if (timeline == null) {
            return;
        }
        long window;
        try {
            window = windowNanos();
        } catch (ConfigProblem p) {
            throw new IllegalStateException(p);
        }
        report(file, PerfettoTrace.write(file, timeline, window, title), out);
    }

    static void report(Path file, PerfettoTrace.Written w, PrintWriter out) {
        out.printf("Trace: %s (%,d trace events from the last %,d model events%s)%n", file, w.events(), w.kept(),
                w.dropped() > 0 ? String.format("; %,d older ones dropped by --trace-events", w.dropped()) : "");
    }
}
