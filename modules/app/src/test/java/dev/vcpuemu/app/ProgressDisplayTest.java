package dev.vcpuemu.app;

import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bar for a person at a terminal, plain lines (never a carriage return) for a file or a pipe. */
class ProgressDisplayTest {
    private static Progress at(double wallSeconds, long simulatedNanos) {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            counters.put(c.key, 7L);
        }
        return new Progress(wallSeconds, simulatedNanos, counters, 2, 3.5e6, 1e6, Map.of(FindingKind.HUNG_TASK, 2L),
                List.of(), Map.of(), -1, -1);
    }

    private static Progress halfWay() {
        return at(5.0, 1_000_000);
    }

    @Test
    void atATerminalABarShowsHowFarTheRunIsWithItsRateAndFindings() {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        StringWriter lines = new StringWriter();
        try (ProgressDisplay d = ProgressDisplay.of("run", 10_000_000_000L, false, true,
                new PrintStream(screen, true, StandardCharsets.UTF_8), new PrintWriter(lines))) {
            d.accept(halfWay());
        }
        String shown = screen.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("run") && shown.contains(" 50%") && shown.contains("5000/10000 ms"), shown);
        assertTrue(shown.contains("3.50 M uops/s, findings 2"), shown);
        assertEquals("", lines.toString(), "no plain lines beside the bar");
    }

    @Test
    void elsewherePlainProgressLinesWithTheShareDone() {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        StringWriter lines = new StringWriter();
        try (ProgressDisplay d = ProgressDisplay.of("run", 10_000_000_000L, false, false,
                new PrintStream(screen, true, StandardCharsets.UTF_8), new PrintWriter(lines))) {
            d.accept(halfWay());
        }
        assertEquals(" 50% " + Summary.progressLine(halfWay()) + System.lineSeparator(), lines.toString());
        assertEquals(0, screen.size());
    }

    /** Ten lines for a run of a hundred samples; and the last sample, where a stopped run ended, is never left out. */
    @Test
    void plainLinesComeAtEachTenthAndTheLastSampleEndsThem() {
        StringWriter lines = new StringWriter();
        ProgressDisplay d = ProgressDisplay.of("run", 100_000_000L, true, false, System.err, new PrintWriter(lines));
        for (int i = 1; i <= 100; i++) {
            d.accept(at(i * 0.01, i * 1_000_000L));
        }
        d.close();
        List<String> printed = lines.toString().lines().toList();
        assertEquals(10, printed.size(), lines.toString());
        for (int i = 0; i < 10; i++) {
            assertTrue(printed.get(i).startsWith(String.format("%3d%% [", 10 * (i + 1))), printed.get(i));
        }
        assertFalse(lines.toString().contains("\r"), "no carriage return: lines, not frames");

        StringWriter stopped = new StringWriter();
        ProgressDisplay early = ProgressDisplay.of("run", 100_000_000L, true, false, System.err, new PrintWriter(stopped));
        for (int i = 1; i <= 43; i++) {
            early.accept(at(i * 0.01, i * 1_000_000L));
        }
        early.done(new RunResult(0.43, 43_000_000, Map.of(), Map.of(), List.of(), new RunResult.Conservation(true, ""),
                "stopped", null, null, -1, null, Map.of(), List.of(), Map.of()));
        List<String> shown = stopped.toString().lines().toList();
        assertEquals(5, shown.size(), stopped.toString());
        assertTrue(shown.get(4).startsWith(" 43% [   0.4s] sim    43.00 ms"), shown.get(4));
    }

    /** Over a long run, a line at least every half minute even between tenths. */
    @Test
    void plainLinesAtLeastEveryHalfMinute() {
        StringWriter lines = new StringWriter();
        ProgressDisplay d = ProgressDisplay.of("soak", 3_600_000_000_000L, false, false, System.err, new PrintWriter(lines));
        for (int s = 10; s <= 300; s += 10) {
            d.accept(at(s, s * 1_000_000L));
        }
        assertEquals(10, lines.toString().lines().count(), lines.toString());
    }

    @Test
    void aTerminalIsAPseudoTerminalOrAConsoleNeverAFileOrAPipe() {
        for (String tty : List.of("/dev/pts/3", "/dev/tty1", "/dev/ttyS0", "/dev/console")) {
            assertTrue(ProgressDisplay.terminalDevice(Path.of(tty)), tty);
        }
        for (String other : List.of("/tmp/err.txt", "pipe:[123456]", "/dev/null", "socket:[42]")) {
            assertFalse(ProgressDisplay.terminalDevice(Path.of(other)), other);
        }
    }
}
