package dev.vcpuemu.app;

import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunResult;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Progress of a run with a known end, on stderr. When stderr is a terminal ({@link #terminal()}),
 * a progress bar (wall-clock milliseconds, or simulated microseconds for the deterministic
 * engine) with the live rate and findings beside it, whose clock and ETA start when the
 * simulation does ({@link #started()}). Otherwise (a file, a pipe, CI) plain lines and never a
 * carriage return: the percentage done and the progress line, for the first sample past each
 * tenth of the run, or {@link #LINE_EVERY_SECONDS} after the last line printed, and for the
 * run's last sample.
 */
final class ProgressDisplay implements Consumer<Progress>, AutoCloseable {
    /** In plain lines, a sample is printed at least this long (wall seconds) after the last one printed. */
    static final double LINE_EVERY_SECONDS = 30;

    private final ProgressBar bar;
    private final boolean simulated;
    private final long totalNanos;
    private final PrintWriter lines;
    private long tenthsPrinted;
    private double lastLineWall;
    /** The last sample when it was not printed: {@link #done} prints it. */
    private Progress unprinted;
    /** The bar's position and the run's wall seconds at the last sample, read by the bar's ETA. */
    private volatile long samplePosition;
    private volatile double sampleWall;

    private ProgressDisplay(String task, long totalNanos, boolean simulated, boolean terminal, PrintStream screen,
                            PrintWriter lines) {
        this.simulated = simulated;
        this.totalNanos = Math.max(1, totalNanos);
        this.lines = lines;
        this.bar = terminal ? builder(task, simulated ? totalNanos / 1_000 : totalNanos / 1_000_000,
                simulated ? " sim µs" : " ms", screen).setEtaFunction(this::eta).build() : null;
        if (bar != null) {
            bar.setExtraMessage(" starting");
        }
    }

    /**
     * Whether stderr, where progress goes, is a terminal. On Linux {@code /proc/self/fd/2} names
     * the device: a pseudo-terminal ({@code /dev/pts/N}), a console ({@code /dev/ttyN},
     * {@code /dev/console}). Elsewhere Java 17 can only tell whether stdin and stdout are
     * ({@link System#console()}), the best guess left.
     */
    static boolean terminal() {
        try {
            return terminalDevice(Files.readSymbolicLink(Path.of("/proc/self/fd/2")));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null;
        }
    }

    /** Whether {@code device}, what a file descriptor refers to, is a terminal. */
    static boolean terminalDevice(Path device) {
        String d = device.toString();
        return d.startsWith("/dev/pts/") || d.startsWith("/dev/tty") || d.equals("/dev/console");
    }

    /**
     * @param totalNanos the run's bound: wall-clock nanoseconds, or simulated ones when
     *                   {@code simulated}
     * @param terminal a bar on {@code screen}; else plain lines on {@code lines}
     */
    static ProgressDisplay of(String task, long totalNanos, boolean simulated, boolean terminal, PrintStream screen,
                              PrintWriter lines) {
        return new ProgressDisplay(task, totalNanos, simulated, terminal, screen, lines);
    }

    /** A bar counting {@code max} units on {@code screen} (also for explore's runs). */
    static ProgressBar bar(String task, long max, String unit, PrintStream screen) {
        return builder(task, max, unit, screen).build();
    }

    private static ProgressBarBuilder builder(String task, long max, String unit, PrintStream screen) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, max)).setUnit(unit, 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(screen));
    }

    /**
     * The time left: the rest of the run at the pace of the last sample, less the time since that
     * sample. The bar only moves at samples, while its clock runs on between them: the library's
     * own estimate, from the position and the clock, would grow until the next sample.
     */
    private Optional<Duration> eta(ProgressState state) {
        long at = samplePosition;
        double wall = sampleWall;
        if (at <= 0 || wall <= 0) {
            return Optional.empty();
        }
        double left = (state.getMax() - at) * wall / at - (state.getTotalElapsed().toNanos() / 1e9 - wall);
        return Optional.of(Duration.ofMillis((long) (Math.max(0, left) * 1_000)));
    }

    /**
     * The simulation's first quantum opened: the bar's clock, and so its ETA, count from here,
     * not from the actor system's start-up. Called on the simulation's thread, once.
     */
    void started() {
        if (bar != null) {
            bar.reset();
            bar.setExtraMessage("");
        }
    }

    @Override
    public void accept(Progress p) {
        if (bar != null) {
            long position = simulated ? p.simulatedNanos() / 1_000 : (long) (p.wallSeconds() * 1_000);
            sampleWall = p.wallSeconds();
            samplePosition = position;
            bar.stepTo(position);
            bar.setExtraMessage(String.format(" %.2f M uops/s, findings %d", p.microOpsPerSecond() / 1e6, p.findings()));
            return;
        }
        long tenths = doneNanos(p) * 10 / totalNanos;
        if (tenths > tenthsPrinted || p.wallSeconds() - lastLineWall >= LINE_EVERY_SECONDS) {
            print(p);
            tenthsPrinted = Math.max(tenthsPrinted, tenths);
        } else {
            unprinted = p;
        }
    }

    /** How far the run was at {@code p}, in the nanoseconds of its bound, at most all of them. */
    private long doneNanos(Progress p) {
        return Math.min(totalNanos, simulated ? p.simulatedNanos() : (long) (p.wallSeconds() * 1e9));
    }

    private void print(Progress p) {
        // At most 365 days (DESIGN's bound on a duration) times 100: far from a long's overflow.
        lines.printf("%3d%% %s%n", doneNanos(p) * 100 / totalNanos, Summary.progressLine(p));
        lines.flush();
        lastLineWall = p.wallSeconds();
        unprinted = null;
    }

    /** The run is over: the bar shows where it ended (its bound, or earlier if it stopped); plain lines end with its last sample. */
    ProgressDisplay done(RunResult r) {
        if (bar != null) {
            bar.stepTo(simulated ? r.simulatedNanos() / 1_000 : (long) (r.wallSeconds() * 1_000));
        } else if (unprinted != null) {
            print(unprinted);
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
