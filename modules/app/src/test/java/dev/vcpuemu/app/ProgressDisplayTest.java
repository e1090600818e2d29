package dev.vcpuemu.app;

import dev.vcpuemu.app.report.Summary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.Counter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bar for a person at a terminal, plain lines for a file or a pipe. */
class ProgressDisplayTest {
    private static Progress halfWay() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            counters.put(c.key, 7L);
        }
        return new Progress(5.0, 1_000_000, counters, 2, 3.5e6, 1e6, Map.of(FindingKind.HUNG_TASK, 2L), List.of(),
                Map.of(), -1, -1);
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
    void elsewherePlainProgressLines() {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        StringWriter lines = new StringWriter();
        try (ProgressDisplay d = ProgressDisplay.of("run", 10_000_000_000L, false, false,
                new PrintStream(screen, true, StandardCharsets.UTF_8), new PrintWriter(lines))) {
            d.accept(halfWay());
        }
        assertEquals(Summary.progressLine(halfWay()) + System.lineSeparator(), lines.toString());
        assertEquals(0, screen.size());
    }
}
