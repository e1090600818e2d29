package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A long soak of the default topology (30 minutes unless {@code -Dlong-soak.duration=…}), run
 * only by {@code mvn -Plong-soak verify} (checkpoints every 30 s, or a tenth of a short duration), never by CI: every interval written, no finding,
 * conservation held at the end, memory bounded (the live heap never grows past twice what
 * it was once started up), and the speed steady: the last quarter of the intervals ran at no less
 * than 90 % of the second quarter's micro-ops per wall second (the first quarter is the JIT's).
 */
class LongSoakIT {
    private static final Path JAR = Path.of(System.getProperty("vcpuemu.jar", "target/vcpu-emu.jar"));
    private static final String DURATION = System.getProperty("vcpuemu.soak.duration", "30m");

    @TempDir
    Path tmp;

    @Test
    void theDefaultTopologySoaksCleanlyInBoundedMemory() throws Exception {
        Duration d = Duration.ofNanos(com.typesafe.config.ConfigFactory.parseString("d=" + DURATION).getDuration("d").toNanos());
        long interval = Math.max(1, Math.min(30, d.toSeconds() / 10));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toAbsolutePath().toString(), "soak", "--duration", DURATION, "--interval", interval + "s",
                "--out", "soak"));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("soak.out").toFile()).start();
        assertTrue(p.waitFor(d.toSeconds() + 300, TimeUnit.SECONDS), "the soak ends on its own");
        String out = Files.readString(tmp.resolve("soak.out"));
        assertEquals(0, p.exitValue(), out);

        ObjectMapper json = new ObjectMapper();
        JsonNode r = json.readTree(tmp.resolve("soak/report.json").toFile());
        assertTrue(r.get("conservation").get("held").asBoolean(), r.get("conservation").toString());
        assertEquals(0, r.get("counters").get("deadLetters").asLong());
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(tmp.resolve("soak/intervals.jsonl"))) {
            lines.add(json.readTree(line));
        }
        assertTrue(!lines.isEmpty() && lines.size() >= d.toSeconds() / interval - 2, lines.size() + " intervals in " + DURATION);
        long settled = lines.get(Math.min(1, lines.size() - 1)).get("heapAfterGcBytes").asLong();
        for (JsonNode line : lines) {
            assertEquals(0, line.get("findingsSoFar").asLong(), line.toString());
            assertTrue(line.get("heapAfterGcBytes").asLong() <= 2 * settled, "live heap bounded: " + line);
        }
        assertTrue(Files.size(tmp.resolve("soak/report.html")) > 0);
        System.out.println(out);

        int quarter = lines.size() / 4;
        double second = microOpsPerSecond(lines, quarter, 2 * quarter);
        double last = microOpsPerSecond(lines, lines.size() - quarter, lines.size());
        System.out.printf("micro-ops/s: second quarter %.3f M, last quarter %.3f M (%.1f %%)%n", second / 1e6,
                last / 1e6, 100 * last / second);
        assertTrue(quarter > 0 && last >= 0.9 * second, "the last quarter ran at " + Math.round(100 * last / second)
                + " % of the second quarter's micro-ops/s (at least 90 % wanted)");
    }

    /**
     * Micro-ops per wall second over intervals {@code from} to {@code to - 1}: their micro-ops (each
     * line counts its interval's increase) over the wall time they span (each line's
     * {@code wallSeconds} is its end, from the start of the run).
     */
    private static double microOpsPerSecond(List<JsonNode> lines, int from, int to) {
        double ops = 0;
        for (JsonNode line : lines.subList(from, to)) {
            ops += line.get("counters").get("microOps").asDouble();
        }
        double start = from == 0 ? 0 : lines.get(from - 1).get("wallSeconds").asDouble();
        return ops / (lines.get(to - 1).get("wallSeconds").asDouble() - start);
    }
}
