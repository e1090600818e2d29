package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A soak's data adds up, on both engines: N intervals give N lines of {@code intervals.jsonl}
 * (the last one ends with the run) and N histograms per latency in {@code latency.hlog}, and
 * over the lines each counter's increases, every counter of the report, and each latency's
 * counts add up to the final report's.
 */
class SoakIntervalsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path JAR = Path.of(System.getProperty("vcpuemu.jar", "target/vcpu-emu.jar"));
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));

    @TempDir
    Path tmp;

    private Path soak(String... options) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toAbsolutePath().toString(), "soak", CONF.toAbsolutePath().resolve("no-nmi.conf").toString(),
                "--out", "soak"));
        cmd.addAll(List.of(options));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectOutput(tmp.resolve("stdout.txt").toFile())
                .redirectError(tmp.resolve("stderr.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the soak ends on its own");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("stdout.txt")) + Files.readString(tmp.resolve("stderr.txt")));
        return tmp.resolve("soak");
    }

    @Test
    void concurrentSoakOfFourIntervalsWritesFourThatAddUp() throws Exception {
        // Wall-clock samples keep to the grid of whole intervals: 0.5, 1 and 1.5 s, then the end.
        assertAddsUp(soak("--duration", "2s", "--interval", "500ms"), 4);
    }

    @Test
    void deterministicSoakOfFourIntervalsWritesFourThatAddUp() throws Exception {
        assertAddsUp(soak("--engine", "deterministic", "--duration", "200ms", "--interval", "50ms"), 4);
    }

    private static void assertAddsUp(Path dir, int intervals) throws Exception {
        JsonNode report = JSON.readTree(dir.resolve("report.json").toFile());
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("intervals.jsonl"))) {
            lines.add(JSON.readTree(line));
        }
        assertEquals(intervals, lines.size(), "one line per interval, the last one included");
        assertEquals(intervals, report.get("soak").get("intervals").asInt());
        assertEquals(report.get("simulatedSeconds").asDouble(), lines.get(intervals - 1).get("simulatedSeconds").asDouble(),
                "the last interval ends where the run did");

        JsonNode counters = report.get("counters");
        for (Map.Entry<String, JsonNode> c : counters.properties()) {
            long sum = 0;
            for (JsonNode line : lines) {
                assertTrue(line.get("counters").has(c.getKey()), "every counter in every interval: " + c.getKey());
                sum += line.get("counters").get(c.getKey()).asLong();
            }
            assertEquals(c.getValue().asLong(), sum, "the intervals' " + c.getKey() + " add up to the report's");
        }
        for (JsonNode line : lines.subList(0, intervals - 1)) {
            // Counted by the NMI source, not a vCPU: in every interval too. (Evictions only start once
            // the resident limit is reached, which a cold concurrent run may not do in its first interval.)
            assertTrue(line.get("counters").get("nmisSent").asLong() > 0, "nmisSent in " + line);
        }

        Map<String, Long> perTag = new TreeMap<>();
        Map<String, Long> counts = new TreeMap<>();
        try (HistogramLogReader reader = new HistogramLogReader(dir.resolve("latency.hlog").toFile())) {
            for (EncodableHistogram h = reader.nextIntervalHistogram(); h != null; h = reader.nextIntervalHistogram()) {
                perTag.merge(h.getTag(), 1L, Long::sum);
                counts.merge(h.getTag(), ((org.HdrHistogram.Histogram) h).getTotalCount(), Long::sum);
            }
        }
        for (String tag : List.of("swapIn", "taskSleep", "notPresentToPageReady")) {
            assertEquals(intervals, perTag.get(tag), "one " + tag + " histogram per interval: " + perTag);
        }
        report.get("latencies").forEachEntry((kind, l) -> assertEquals(l.get("count").asLong(),
                counts.getOrDefault(kind, 0L), "the log's " + kind + " counts add up to the report's"));
    }
}
