package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded jar as a user starts it: help and version on every subcommand, an empty topology
 * file, and Ctrl-C (SIGINT) during a run.
 */
class CliIT {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf")).toAbsolutePath();

    @TempDir
    Path tmp;

    private ProcessBuilder jar(String... args) throws IOException {
        return Jar.command(tmp, args);
    }

    private Jar.Outcome run(String... args) throws IOException, InterruptedException {
        return Jar.run(tmp, args);
    }

    @Test
    void helpOnEverySubcommandAndTheVersionWithCommitAndDate() throws Exception {
        for (String command : CliTest.COMMANDS) {
            // --help wins over missing required options (explore, replay, validate, soak).
            Jar.Outcome o = run(command, "--help");
            assertEquals(0, o.exit(), command + ": " + o.err());
            assertTrue(o.out().startsWith("Usage: vcpu-emu " + command + " [-hV]"), command + ": " + o.out());
        }
        Jar.Outcome v = run("replay", "--version");
        assertEquals(0, v.exit(), v.err());
        List<String> lines = v.out().lines().toList();
        assertTrue(lines.get(0).matches("vcpu-emu \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), v.out());
        assertTrue(lines.get(1).matches("commit ([0-9a-f]{40}( \\(with uncommitted changes\\))?|unknown)"), v.out());
        assertTrue(lines.get(2).matches("built \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), v.out());
    }

    @Test
    void anEmptyTopologyFileIsBadInputAndLeavesThePreviousReport() throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty.conf"), "");
        Path report = Files.writeString(tmp.resolve("vcpu-emu-report.json"), "{\"previous\": true}");
        Jar.Outcome o = run("run", empty.getFileName().toString());
        assertEquals(Main.BAD_INPUT, o.exit(), o.out() + o.err());
        assertTrue(o.err().contains("empty.conf: empty topology file: expected a vcpu-emu { } block"), o.err());
        assertEquals("{\"previous\": true}", Files.readString(report));
    }

    @ParameterizedTest
    @ValueSource(strings = {"concurrent", "deterministic"})
    void ctrlCStopsARunWithItsReportAndExits130(String engine) throws Exception {
        Path report = tmp.resolve("report.json");
        Process p = jar("run", "--engine", engine, "--duration", "60s", "--report", report.getFileName().toString())
                .start();
        try {
            Jar.assumeSigintReaches(p);
            // Simulating: the first progress line on stderr (the stop handler is installed before the run starts).
            Path err = tmp.resolve("stderr.txt");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Files.readString(err).lines().noneMatch(l -> !l.isBlank() && !l.startsWith("SLF4J"))) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "the run starts: " + Files.readString(err));
                Thread.sleep(100);
            }
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "SIGINT ends the run");
            assertEquals(130, p.exitValue(), Files.readString(err));
        } finally {
            p.destroyForcibly();
        }
        JsonNode r = new ObjectMapper().readTree(report.toFile());
        assertEquals("stopped", r.get("endReason").asText());
        assertTrue(r.get("conservation").get("held").asBoolean(), r.get("conservation").toString());
        Path plain = Files.createFile(tmp.resolve("plain.txt"));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(report),
                "the report has a new file's permissions");
    }

    /**
     * Ctrl-C during a search on one JVM ends it as its time limit would: the runs under way end
     * and count, the estimate over the runs done is written, and the exit code says it was cut
     * short. (Before, the JVM ended at once and the runs done were lost.)
     */
    /** The same during an era comparison: the pair at work ends, the pairs after it do not start. */
    @Test
    void ctrlCDuringAnEraComparisonEndsItWithThePairsDoneAndExits130() throws Exception {
        Path out = tmp.resolve("eras");
        Process p = jar("explore", CONF.resolve("no-nmi.conf").toString(), "--eras", "legacy/legacy,legacy/interrupt",
                "--estimate", "apf-word-stolen", "--runs", "10000000", "--duration", "1ms", "--out", out.toString())
                .start();
        try {
            Jar.assumeSigintReaches(p);
            interruptOnceSearching(p);
        } finally {
            p.destroyForcibly();
        }
        JsonNode pairs = new ObjectMapper().readTree(out.resolve("estimate.json").toFile()).get("eras");
        assertEquals(1, pairs.size(), pairs.toString());
        assertEquals("legacy/legacy", pairs.get(0).get("eras").asText());
        assertTrue(pairs.get(0).get("runs").asLong() > 0, pairs.toString());
        assertFalse(Files.readString(tmp.resolve("stdout.txt")).contains("legacy/interrupt"));
    }

    /** Waits for the search's first progress line, sends SIGINT, and expects exit 130 with the stop said. */
    private void interruptOnceSearching(Process p) throws Exception {
        // Searching: its first progress line on stderr (the stop handler is installed before the search starts).
        Path err = tmp.resolve("stderr.txt");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.readString(err).lines().noneMatch(l -> l.startsWith("explore: ") && l.contains(" runs, "))) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, "the search starts: " + Files.readString(err));
            Thread.sleep(100);
        }
        assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "SIGINT ends the search");
        assertEquals(130, p.exitValue(), Files.readString(err));
        assertTrue(Files.readString(err).contains("vcpu-emu: SIGINT: no new runs"), Files.readString(err));
    }

    @Test
    void ctrlCEndsAnExploreSearchWithTheEstimateOfTheRunsDoneAndExits130() throws Exception {
        Path out = tmp.resolve("search");
        Process p = jar("explore", CONF.resolve("no-nmi.conf").toString(), "--estimate", "apf-word-stolen", "--runs",
                "10000000", "--duration", "1ms", "--out", out.toString()).start();
        try {
            Jar.assumeSigintReaches(p);
            interruptOnceSearching(p);
        } finally {
            p.destroyForcibly();
        }
        JsonNode e = new ObjectMapper().readTree(out.resolve("estimate.json").toFile());
        long runs = e.get("runs").asLong();
        assertTrue(runs > 0 && runs < 10_000_000, "the runs done before the signal: " + runs);
        assertTrue(Files.readString(tmp.resolve("stdout.txt")).contains(String.format("%,d", runs)),
                Files.readString(tmp.resolve("stdout.txt")));
    }
}
