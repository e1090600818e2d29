package dev.vcpuemu.app;

import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunResult;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.function.Consumer;

/**
 * Progress of a run with a known end: on a terminal a progress bar (wall-clock milliseconds,
 * or simulated microseconds for the deterministic engine) with the live rates and findings
 * beside it; otherwise (a file, a pipe, CI) the plain progress line at every sample.
 */
final class ProgressDisplay implements Consumer<Progress>, AutoCloseable {
    private final ProgressBar bar;
    private final boolean simulated;
    private final PrintWriter lines;

    private ProgressDisplay(ProgressBar bar, boolean simulated, PrintWriter lines) {
        this.bar = bar;
        this.simulated = simulated;
        this.lines = lines;
    }

    /** Whether progress goes to a person at a terminal rather than to a file or a pipe. */
    static boolean terminal() {
        return System.console() != null;
    }

    /**
     * @param totalNanos the run's bound: wall-clock nanoseconds, or simulated ones when
     *                   {@code simulated}
     * @param terminal a bar on {@code screen}; else plain lines on {@code lines}
     */
    static ProgressDisplay of(String task, long totalNanos, boolean simulated, boolean terminal, PrintStream screen,
                              PrintWriter lines) {
        ProgressBar bar = terminal ? bar(task, simulated ? totalNanos / 1_000 : totalNanos / 1_000_000,
                simulated ? " sim µs" : " ms", screen) : null;
        return new ProgressDisplay(bar, simulated, lines);
    }

    /** A bar counting {@code max} units on {@code screen} (also for explore's runs). */
    static ProgressBar bar(String task, long max, String unit, PrintStream screen) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, max)).setUnit(unit, 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(screen)).build();
    }

    @Override
    public void accept(Progress p) {
        if (bar == null) {
            lines.println(Summary.progressLine(p));
            lines.flush();
            return;
        }
        bar.stepTo(simulated ? p.simulatedNanos() / 1_000 : (long) (p.wallSeconds() * 1_000));
        bar.setExtraMessage(String.format(" %.2f M uops/s, findings %d", p.microOpsPerSecond() / 1e6, p.findings()));
    }

    /** The run is over: the bar shows where it ended (its bound, or earlier if it stopped). */
    ProgressDisplay done(RunResult r) {
        if (bar != null) {
            bar.stepTo(simulated ? r.simulatedNanos() / 1_000 : (long) (r.wallSeconds() * 1_000));
        }
        return this;
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
