package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The results store and {@code compare}, as a user meets them: the shaded jar in a fresh working directory. */
class StoreIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf")).toAbsolutePath();

    @TempDir
    Path tmp;

    private Jar.Outcome run(String... args) throws IOException, InterruptedException {
        return Jar.run(tmp, args);
    }

    private List<Path> runDirs() throws IOException {
        try (var dirs = Files.list(tmp.resolve("runs"))) {
            return dirs.filter(d -> Files.isDirectory(d) && !Files.isSymbolicLink(d)).sorted().toList();
        }
    }

    @Test
    void runsWithoutReportAreStoredListedAndCompared() throws Exception {
        String noNmi = CONF.resolve("no-nmi.conf").toString();
        Jar.Outcome bad = run("run", noNmi, "--set", "topology.vcpus=0");
        assertEquals(2, bad.exit(), bad.err());
        assertFalse(Files.exists(tmp.resolve("runs")), "bad input stores nothing");

        Jar.Outcome first = run("run", noNmi, "--engine", "deterministic", "--duration", "20ms", "--seed", "1");
        assertEquals(0, first.exit(), first.out() + first.err());
        List<Path> dirs = runDirs();
        assertEquals(1, dirs.size(), dirs.toString());
        Path dir = dirs.get(0);
        assertTrue(dir.getFileName().toString().matches("\\d{4}-\\d\\d-\\d\\d-\\d{6}-run-no-nmi"), dir.toString());
        JsonNode report = JSON.readTree(dir.resolve("report.json").toFile());
        assertEquals(1, report.get("seed").asLong());
        assertTrue(Files.size(dir.resolve("report.html")) > 0, "the HTML report beside it");
        assertTrue(Files.readString(dir.resolve("command.txt")).contains(" run " + noNmi + " --engine deterministic"));
        assertTrue(first.out().contains("Report: runs/" + dir.getFileName() + "/report.json"), first.out());
        assertEquals(dir.toRealPath(), tmp.resolve("runs/latest").toRealPath());
        assertFalse(Files.exists(tmp.resolve("vcpu-emu-report.json")), "nothing in the working directory itself");

        // The stored configuration is a topology of its own: it validates and gives the same seed.
        Jar.Outcome valid = run("validate", dir.resolve("config.conf").toString());
        assertEquals(0, valid.exit(), valid.out() + valid.err());
        assertTrue(valid.out().contains("seed 1"), valid.out());

        Jar.Outcome second = run("run", noNmi, "--engine", "deterministic", "--duration", "20ms", "--seed", "2");
        assertEquals(0, second.exit(), second.out() + second.err());
        assertEquals(2, runDirs().size());
        String index = Files.readString(tmp.resolve("runs/index.html"));
        for (Path d : runDirs()) {
            assertTrue(index.contains("href=\"" + d.getFileName() + "/report.html\""), index);
        }
        assertTrue(index.contains("no-nmi.conf") && index.contains("deterministic") && index.contains("legacy/legacy"), index);

        Jar.Outcome compare = run("compare", "runs/" + dir.getFileName(), "latest", "--html", "compare.html");
        assertEquals(0, compare.exit(), compare.out() + compare.err());
        assertTrue(compare.out().contains("seed 1") && compare.out().contains("seed 2"), compare.out());
        assertTrue(compare.out().lines().anyMatch(l -> l.strip().startsWith("microOps ") && l.contains("%")), compare.out());
        assertTrue(Files.readString(tmp.resolve("compare.html")).contains("<td>microOps</td>"));

        Jar.Outcome missing = run("compare", "latest", "nowhere.json");
        assertEquals(2, missing.exit());
        assertEquals("nowhere.json: no such report file or run directory", missing.err().strip());
    }

    @Test
    void benchShowsEachPhaseAndStoresItsRepeatedResults() throws Exception {
        Jar.Outcome o = run("bench", "--duration", "200ms", "--warmup", "100ms", "--engines", "concurrent", "--repeat", "2",
                "--vcpus", "8", "--settle", "1ms");
        assertEquals(0, o.exit(), o.out() + o.err());
        for (int i = 1; i <= 4; i++) {
            assertTrue(o.err().contains("bench: phase " + i + "/4: "), o.err());
        }
        assertTrue(o.out().contains("median of 2 runs"), o.out());
        Path dir = runDirs().get(0);
        assertTrue(dir.getFileName().toString().endsWith("-bench-default"), dir.toString());
        JsonNode b = JSON.readTree(dir.resolve("report.json").toFile());
        assertEquals(2, b.get("repeat").asInt());
        JsonNode raw = b.get("sizes").get(0).get("phases").get("rawConcurrent");
        assertEquals(2, raw.get("runs").size());
        for (JsonNode run : raw.get("runs")) {
            assertTrue(run.get("leastPerActor").asLong() > 1, "every player's ball moved: " + run);
        }
        JsonNode emulator = b.get("sizes").get(0).get("phases").get("emulatorConcurrent");
        assertFalse(emulator.get("runs").get(0).has("leastPerActor"));
        assertEquals(0.001, b.get("settleSimulatedSeconds").asDouble(), 1e-12);
        for (JsonNode run : emulator.get("runs")) {
            assertTrue(run.get("settledAtSimulatedSeconds").asDouble() >= 0.001, "measured from its settle point: " + run);
            assertTrue(run.get("settleWallSeconds").asDouble() > 0, run.toString());
        }
        assertFalse(raw.get("runs").get(0).has("settledAtSimulatedSeconds"), "a baseline has no simulated time");
        assertTrue(o.out().contains("measured from "), o.out());
        assertTrue(raw.get("messagesPerSecondMin").asDouble() <= raw.get("messagesPerSecond").asDouble()
                && raw.get("messagesPerSecond").asDouble() <= raw.get("messagesPerSecondMax").asDouble(), raw.toString());
        assertTrue(b.get("sizes").get(0).has("warnings"));
    }
}
