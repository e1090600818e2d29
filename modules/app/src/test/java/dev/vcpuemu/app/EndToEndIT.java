package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded jar, run as a user runs it (a child JVM), on every topology in {@code conf/} and
 * on each kind of bad input. Runs on the concurrent engine: the assertions are those that hold
 * with overwhelming probability within the run's bound.
 */
class EndToEndIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));

    @TempDir
    Path tmp;

    private Jar.Outcome run(String... args) throws IOException, InterruptedException {
        return Jar.run(tmp, args);
    }

    private JsonNode report(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }

    private static void assertContract(JsonNode r) {
        assertContract(r, "run");
    }

    private static void assertContract(JsonNode r, String command) {
        for (String field : List.of("schema", "command", "engine", "seed", "topology", "wallSeconds", "simulatedSeconds",
                "counters", "findings", "findingExamples", "conservation", "expectations", "traceHash")) {
            assertTrue(r.has(field), "report field " + field);
        }
        for (String counter : List.of("microOps", "genuinePageFaults", "apfNotPresentInjected", "apfPageReadyInjected",
                "syntheticHalts", "synchronousFaults", "nmisDelivered", "tasksSlept", "tasksWoken", "messages")) {
            assertTrue(r.get("counters").has(counter), "counter " + counter);
        }
        for (String t : List.of("file", "vcpus", "hostEra", "guestEra")) {
            assertTrue(r.get("topology").has(t), "topology." + t);
        }
        assertEquals(1, r.get("schema").asInt());
        assertEquals(command, r.get("command").asText());
        assertEquals("concurrent", r.get("engine").asText());
        assertTrue(r.get("counters").get("microOps").asLong() > 0);
        assertEquals(0, r.get("counters").get("deadLetters").asLong(), "a normal run has no dead letter");
        assertTrue(r.get("conservation").get("held").asBoolean(), r.get("conservation").toString());
    }

    @Test
    void defaultTopologyRunsCleanly() throws Exception {
        Path rep = tmp.resolve("default.json");
        Path trace = tmp.resolve("timeline.json");
        Jar.Outcome o = run("run", "--duration", "3s", "--report", rep.toString(), "--trace", trace.toString(),
                "--trace-events", "100000");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("Expectations: met"), o.out());
        assertTrue(o.err().contains("uops/s"), "progress lines on stderr: " + o.err());
        JsonNode r = report(rep);
        assertContract(r);
        assertEquals("(embedded default)", r.get("topology").get("file").asText());
        assertEquals(4, r.get("topology").get("vcpus").asInt());
        assertTrue(r.get("counters").get("apfNotPresentInjected").asLong() > 0);
        assertEquals(4, r.get("vcpuTimes").size(), "a time breakdown per vCPU");

        // The concurrent engine's timeline: bounded, with slices, token spans and page-ready arrows.
        assertTrue(o.out().contains("Trace: " + trace), o.out());
        JsonNode t = JSON.readTree(trace.toFile());
        assertTrue(t.get("metadata").get("eventsDropped").asLong() > 0, "3 s of events exceed 100,000");
        java.util.Map<String, Integer> phases = new java.util.HashMap<>();
        t.get("traceEvents").forEach(e -> phases.merge(e.get("ph").asText(), 1, Integer::sum));
        for (String ph : List.of("X", "i", "b", "e", "s", "f", "M", "C")) {
            assertTrue(phases.getOrDefault(ph, 0) > 0, "trace events of phase " + ph + ": " + phases);
        }
        assertEquals(phases.get("s"), phases.get("f"), "every arrow has both ends");
    }

    @Test
    void defaultConfFileIsTheEmbeddedDefault() throws Exception {
        Path rep = tmp.resolve("default-conf.json");
        Jar.Outcome o = run("run", CONF.resolve("default.conf").toString(), "--duration", "2s", "--report", rep.toString());
        assertEquals(0, o.exit(), o.err());
        JsonNode r = report(rep);
        assertContract(r);
        assertEquals("interrupt", r.get("topology").get("hostEra").asText());
    }

    @Test
    void legacyNmiStormStealsTheApfWord() throws Exception {
        Path rep = tmp.resolve("legacy.json");
        Jar.Outcome o = run("run", CONF.resolve("scenarios/hazard-i-nmi-window.conf").toString(), "--report", rep.toString());
        assertEquals(0, o.exit(), o.out() + o.err());
        JsonNode r = report(rep);
        assertContract(r);
        assertEquals("legacy", r.get("topology").get("hostEra").asText());
        assertTrue(r.get("findings").get("APF_WORD_STOLEN").asLong() > 0, r.get("findings").toString());
        assertTrue(r.get("expectations").get("met").asBoolean());
    }

    @Test
    void interruptNmiStormPanicsTheGuest() throws Exception {
        Path rep = tmp.resolve("interrupt.json");
        Jar.Outcome o = run("run", CONF.resolve("interrupt-nmi-storm.conf").toString(), "--report", rep.toString());
        assertEquals(0, o.exit(), o.out() + o.err());
        JsonNode r = report(rep);
        assertContract(r);
        assertTrue(r.get("findings").get("GUEST_PANIC").asLong() > 0);
        boolean text = false;
        for (JsonNode f : r.get("findingExamples")) {
            text |= f.get("kind").asText().equals("GUEST_PANIC")
                    && f.get("detail").asText().contains("Host injected async #PF in interrupt disabled region");
            assertFalse(f.get("events").isEmpty(), "each example carries the vCPU's last events");
        }
        assertTrue(text, r.get("findingExamples").toString());
        assertTrue(r.get("endReason").asText().startsWith("guest panic"));
    }

    @Test
    void noNmiRunHasNoFindingAndConservationHolds() throws Exception {
        Path rep = tmp.resolve("no-nmi.json");
        Jar.Outcome o = run("run", CONF.resolve("no-nmi.conf").toString(), "--duration", "3s", "--report", rep.toString());
        assertEquals(0, o.exit(), o.out() + o.err());
        JsonNode r = report(rep);
        assertContract(r);
        r.get("findings").fields().forEachRemaining(f -> assertEquals(0, f.getValue().asLong(), f.getKey()));
        assertTrue(r.get("counters").get("nmisDelivered").asLong() > 0);
    }

    @Test
    void nestedKvmGuestTakesItsL2FaultsAsVmExitsWithoutAFinding() throws Exception {
        // conf/nested-kvm.conf: L1 runs L2 vCPU threads; the host delivers their faults as #PF VM exits (§2.4).
        Path rep = tmp.resolve("nested.json");
        Jar.Outcome o = run("run", CONF.resolve("nested-kvm.conf").toString(), "--duration", "2s", "--report", rep.toString());
        assertEquals(0, o.exit(), o.out() + o.err());
        JsonNode r = report(rep);
        assertContract(r);
        r.get("findings").fields().forEachRemaining(f -> assertEquals(0, f.getValue().asLong(), f.getKey()));
        assertTrue(r.get("counters").get("pfVmExits").asLong() > 0, r.get("counters").toString());
        assertTrue(r.get("counters").get("tasksSlept").asLong() > 0, "L1 threads slept on exit qualifications");
    }

    @Test
    void failedExpectationExitsOne() throws Exception {
        Path rep = tmp.resolve("expect.json");
        Jar.Outcome o = run("run", CONF.resolve("no-nmi.conf").toString(), "--duration", "1s", "--report", rep.toString(),
                "--set", "expect.present=[APF_WORD_STOLEN]");
        assertEquals(1, o.exit(), o.out() + o.err());
        assertFalse(report(rep).get("expectations").get("met").asBoolean());
    }

    /** Each kind of bad input: one line naming file, line and key; exit 2; the earlier report untouched. */
    @Test
    void badInputIsOneLineExitTwoAndNothingOverwritten() throws Exception {
        Path rep = tmp.resolve("good.json");
        assertEquals(0, run("run", CONF.resolve("no-nmi.conf").toString(), "--duration", "1s", "--report", rep.toString()).exit());
        byte[] good = Files.readAllBytes(rep);

        Path unknown = tmp.resolve("unknown.conf");
        Files.writeString(unknown, "vcpu-emu {\n  topology {\n    vcpu = 4\n  }\n}\n");
        Path wrongType = tmp.resolve("wrong-type.conf");
        Files.writeString(wrongType, "vcpu-emu.topology.vcpus = four\n");
        Path zero = tmp.resolve("zero.conf");
        Files.writeString(zero, "vcpu-emu {\n  topology.vcpus = 0\n}\n");

        assertBadInput(rep, good, unknown.toString() + ":3: vcpu-emu.topology.vcpu: unknown key", "run", unknown.toString());
        assertBadInput(rep, good, wrongType.toString() + ":1: vcpu-emu.topology.vcpus: expected a number", "run", wrongType.toString());
        assertBadInput(rep, good, zero.toString() + ":2: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 0", "run", zero.toString());
        Path missing = tmp.resolve("missing.conf");
        assertBadInput(rep, good, missing + ": cannot read topology file: no such file", "run", missing.toString());
        assertBadInput(rep, good, "--set topology.vcpus=0: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 0",
                "run", "--set", "topology.vcpus=0");
        assertBadInput(rep, good, zero.toString() + ":2: vcpu-emu.topology.vcpus:", "validate", zero.toString());
        assertBadInput(rep, good, "--vcpus: every size must be at least 1, got [16, 0]", "bench", "--vcpus", "16,0");
        assertBadInput(rep, good, "--out: not a directory: " + rep, "soak", "--duration", "1s", "--out", rep.toString());
        assertBadInput(rep, good, "--duration soon: vcpu-emu.run.duration: ", "soak", "--duration", "soon",
                "--out", tmp.resolve("soak").toString());
        assertBadInput(rep, good, "--set host.era=nope: vcpu-emu.host.era: ", "bench", "--set", "host.era=nope");
        String trace = tmp.resolve("t.json").toString();
        assertBadInput(rep, good, "--trace-events: expected a positive number of events, got 0", "run", "--trace", trace,
                "--trace-events", "0");
        assertBadInput(rep, good, "--trace-window: expected a duration such as 30s or 5m, got \"soon\"", "run", "--trace",
                trace, "--trace-window", "soon");
        Path nowhere = tmp.resolve("no-such-dir");
        assertBadInput(rep, good, "--html: cannot write r.html into " + nowhere.toAbsolutePath(), "run", "--html",
                nowhere.resolve("r.html").toString());
        assertBadInput(rep, good, "--trace: cannot write t.json into " + nowhere.toAbsolutePath(), "run", "--trace",
                nowhere.resolve("t.json").toString());
        assertBadInput(rep, good, "--trace-window: expected a duration such as 30s or 5m, got \"soon\"", "replay",
                CONF.resolve("no-nmi.conf").toString(), "--seed", "1", "--trace", trace, "--trace-window", "soon");
        assertFalse(Files.exists(Path.of(trace)), "no trace written by a run that never started");
    }

    private void assertBadInput(Path rep, byte[] good, String expected, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        if (args[0].equals("run")) {
            all.addAll(List.of("--report", rep.toString()));
        }
        Jar.Outcome o = run(all.toArray(String[]::new));
        assertEquals(2, o.exit(), o.out() + o.err());
        String err = o.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith(expected), "expected '" + expected + "' but got '" + err + "'");
        assertArrayEquals(good, Files.readAllBytes(rep), "the earlier report is untouched");
        assertEquals(new String(good, StandardCharsets.UTF_8), Files.readString(rep));
    }

    // ------------------------------------------------------------------ deterministic engine (DESIGN §3)

    @Test
    void exploreFindsTheStolenWordAndItsReplayCommandReproducesIt() throws Exception {
        Jar.Outcome o = run("explore", CONF.resolve("scenarios/hazard-i-nmi-window.conf").toString(), "--find", "APF_WORD_STOLEN",
                "--runs", "50", "--duration", "50ms", "--out", "found");
        assertEquals(1, o.exit(), "a failing run was found: " + o.out() + o.err());
        JsonNode found = report(tmp.resolve("found/report.json"));
        assertTrue(found.get("findings").get("APF_WORD_STOLEN").asLong() > 0);
        assertTrue(Files.size(tmp.resolve("found/schedule.gz")) > 0 && Files.size(tmp.resolve("found/trace.json")) > 0);

        List<String> lines = o.out().lines().toList();
        String command = lines.get(lines.indexOf("Replay it with:") + 1).strip();
        assertTrue(command.startsWith("java -jar ") && !command.contains("'"), command);
        List<String> words = List.of(command.split(" +")).subList(3, command.split(" +").length);
        List<String> args = new ArrayList<>(words);
        args.addAll(List.of("--report", "replayed.json"));
        Jar.Outcome replay = run(args.toArray(String[]::new));
        assertEquals(1, replay.exit(), "the replay fails the same way: " + replay.out() + replay.err());
        JsonNode replayed = report(tmp.resolve("replayed.json"));
        assertEquals(found.get("traceHash").asText(), replayed.get("traceHash").asText(), "same trace");
        assertEquals(found.get("simulatedSeconds").asDouble(), replayed.get("simulatedSeconds").asDouble());
        assertEquals(found.get("findingExamples"), replayed.get("findingExamples"), "same findings, vCPUs and times");

        List<String> scheduled = new ArrayList<>(words);
        scheduled.addAll(List.of("--schedule", "found/schedule.gz", "--report", "scheduled.json"));
        assertEquals(1, run(scheduled.toArray(String[]::new)).exit());
        assertEquals(found.get("traceHash").asText(), report(tmp.resolve("scheduled.json")).get("traceHash").asText(),
                "following the recorded choices gives the same trace");
    }

    @Test
    void aLostWakeupEndsTheDeterministicRunQuiescentNamingTheTask() throws Exception {
        Path rep = tmp.resolve("lost.json");
        Jar.Outcome o = run("run", CONF.resolve("scenarios/hazard-v-lost-wakeup-on-disable.conf").toString(), "--engine", "deterministic",
                "--report", rep.toString());
        assertEquals(0, o.exit(), o.out() + o.err());
        JsonNode r = report(rep);
        assertEquals("deterministic", r.get("engine").asText());
        assertEquals("quiescent", r.get("endReason").asText());
        assertEquals(1, r.get("findings").get("LOST_WAKEUP").asLong());
        String detail = r.get("findingExamples").get(0).get("detail").asText();
        assertTrue(detail.contains("task 0 of vCPU 0 sleeps on token 0x") && detail.contains("disabled APF"), detail);
        assertTrue(r.get("traceHash").asText().matches("[0-9a-f]{16}"));
    }

    @Test
    void badScheduleFileIsBadInput() throws Exception {
        Files.writeString(tmp.resolve("junk.gz"), "not a schedule");
        Jar.Outcome o = run("replay", CONF.resolve("no-nmi.conf").toString(), "--seed", "1", "--schedule", "junk.gz");
        assertEquals(2, o.exit(), o.err());
        assertEquals(1, o.err().strip().lines().count(), o.err());
        assertTrue(o.err().startsWith("junk.gz: --schedule: not a vcpu-emu schedule"), o.err());
    }

    // ------------------------------------------------------------------ bench (performance.md)

    @Test
    void benchMeasuresEveryPhaseAgainstItsBaselineAndExploreAndSpreadsManyVcpusOverGuests() throws Exception {
        // A quantum of 1 us: each run may end after a few hundred thousand messages even at 4,098 vCPUs.
        Jar.Outcome o = run("bench", "--vcpus", "8,4098", "--duration", "400ms", "--warmup", "0", "--out", "bench.json",
                "--set", "engine.quantum=1us");
        assertEquals(0, o.exit(), o.out() + o.err());
        assertTrue(o.out().contains("Growth (concurrent engine)"), o.out());
        JsonNode b = report(tmp.resolve("bench.json"));
        assertEquals("bench", b.get("command").asText());
        String collector = b.get("machine").get("collector").asText();
        assertTrue(!collector.isEmpty() && o.out().contains(collector + " collector, Java "), o.out());
        if (Files.isDirectory(Path.of("/proc/self/task"))) {
            assertTrue(o.out().contains(" collector threads "), o.out());
        }
        JsonNode small = b.get("sizes").get(0);
        JsonNode big = b.get("sizes").get(1);
        assertEquals(8, small.get("vcpus").asInt());
        assertEquals(1, small.get("guests").asInt());
        assertEquals(4098, big.get("vcpus").asInt());
        assertEquals(2, big.get("guests").asInt(), "4,098 vCPUs are two guests of 2,049: one guest may have 4,095");
        // Per guest: vCPUs, 4 paging workers, the reclaimer, the perf NMI source; then the time-keeper and collector.
        assertEquals(2 * (2049 + 4 + 1 + 1) + 2, big.get("actors").asInt());
        for (JsonNode size : b.get("sizes")) {
            for (String phase : List.of("rawConcurrent", "emulatorConcurrent", "rawSingleThread", "rawSeededExecutor",
                    "emulatorDeterministic")) {
                JsonNode p = size.get("phases").get(phase);
                assertTrue(p.get("messages").asLong() >= size.get("actors").asLong(), phase + ": " + p);
                assertTrue(p.get("messagesPerSecond").asDouble() > 0, phase + ": " + p);
            }
            for (String emulator : List.of("emulatorConcurrent", "emulatorDeterministic")) {
                assertTrue(size.get("phases").get(emulator).get("microOps").asLong() > 0, emulator);
                assertTrue(size.get("phases").get(emulator).get("simulatedSecondsPerSecond").asDouble() > 0, emulator);
            }
            JsonNode concurrent = size.get("phases").get("emulatorConcurrent");
            if (Files.isDirectory(Path.of("/proc/self/task"))) {
                // Linux: each run says what the collector's threads took beside it.
                double gc = concurrent.get("runs").get(0).get("collectorCores").asDouble(-1);
                assertTrue(gc >= 0 && gc <= 2 * b.get("machine").get("cores").asInt(), concurrent.toString());
            }
            double barrier = concurrent.get("barrierShare").asDouble(-1);
            assertTrue(barrier >= 0 && barrier <= 1, "the barrier is a share of wall time: " + concurrent);
            assertTrue(concurrent.get("microsPerQuantum").asDouble() > 0, concurrent.toString());
            assertNull(size.get("phases").get("emulatorDeterministic").get("barrierShare"),
                    "one thread runs the deterministic engine's quanta: no barrier measured");
            assertTrue(concurrent.get("heapLiveBytes").asLong() > concurrent.get("heapBeforeBytes").asLong(),
                    "the topology takes heap: " + concurrent);
            assertTrue(concurrent.get("startupSeconds").asDouble() > 0, concurrent.toString());
            for (String ratio : List.of("concurrent", "deterministic", "deterministicVsSeededExecutor")) {
                assertTrue(size.get("ratios").get(ratio).asDouble() > 0, ratio);
            }
        }
        assertTrue(big.get("phases").get("emulatorConcurrent").get("heapLiveBytes").asLong()
                > small.get("phases").get("emulatorConcurrent").get("heapLiveBytes").asLong(),
                "4,098 vCPUs take more heap than 8");

        // Explore's runs/s, once whatever the sizes: 1 ms runs at one vCPU, after the 5 phases of each size.
        assertTrue(o.err().contains("bench: phase 11/11: explore, 1 vCPU, 1 ms runs: "), o.err());
        assertTrue(o.out().lines().anyMatch(l -> l.strip().startsWith("explore, 1 vCPU, 1 ms runs") && l.contains(" runs/s")),
                o.out());
        JsonNode explore = b.get("explore");
        assertEquals(1, explore.get("vcpus").asInt(), explore.toString());
        assertEquals(0.001, explore.get("simulatedSecondsPerRun").asDouble(), explore.toString());
        assertTrue(explore.get("exploreRuns").asLong() > 0, explore.toString());
        assertTrue(explore.get("runsPerSecond").asDouble() > 0, explore.toString());
        assertTrue(explore.get("simulatedSecondsPerSecond").asDouble() > 0, explore.toString());
        assertTrue(explore.has("apfRoundTripsPerSecond"), explore.toString());
        assertEquals(1, explore.get("runs").size(), explore.toString());
    }

    // ------------------------------------------------------------------ soak (issue 5 §1)

    /** A soak of no-nmi.conf into {@code soak/}, checkpointing every second, once it has written {@code n} intervals. */
    private Process soakWithIntervals(int n) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Jar.PATH.toString(), "soak", CONF.resolve("no-nmi.conf").toString(), "--duration", "10m",
                "--interval", "1s", "--out", "soak"));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile())
                .redirectOutput(tmp.resolve("stdout.txt").toFile()).redirectError(tmp.resolve("stderr.txt").toFile())
                .start();
        awaitIntervals(tmp.resolve("soak"), n, p);
        return p;
    }

    /** The complete lines of the soak's interval log (a line cut by kill -9 is not one). */
    private List<JsonNode> intervalLines(Path dir) throws IOException {
        Path log = dir.resolve("intervals.jsonl");
        if (!Files.exists(log)) {
            return List.of();
        }
        String text = Files.readString(log);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
            if (!line.isEmpty()) {
                lines.add(JSON.readTree(line));
            }
        }
        return lines;
    }

    private void awaitIntervals(Path dir, int n, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (intervalLines(dir).size() < n) {
            assertTrue(p.isAlive(), "the soak is still running: " + Files.readString(tmp.resolve("stderr.txt")));
            assertTrue(System.nanoTime() < deadline, "no " + n + " intervals within 60 s");
            Thread.sleep(100);
        }
    }

    /** The .hlog reads back with HdrHistogram's own reader: tagged interval histograms, one tag per kind. */
    private static void assertLatencyLog(Path dir) throws IOException {
        java.util.Set<String> tags = new java.util.TreeSet<>();
        long count = 0;
        try (var reader = new org.HdrHistogram.HistogramLogReader(dir.resolve("latency.hlog").toFile())) {
            for (var h = reader.nextIntervalHistogram(); h != null; h = reader.nextIntervalHistogram()) {
                tags.add(h.getTag());
                count += ((org.HdrHistogram.Histogram) h).getTotalCount();
            }
        }
        assertTrue(tags.containsAll(List.of("notPresentToPageReady", "swapIn", "taskSleep")), tags.toString());
        assertTrue(count > 0);
    }

    /** Every interval did work; the last one, which ends where the run did, may be short (a stopped soak's). */
    private static void assertIntervals(List<JsonNode> lines) {
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = lines.get(i);
            boolean last = i == lines.size() - 1;
            assertEquals(i + 1, line.get("interval").asInt(), line.toString());
            assertTrue(line.get("heapAfterGcBytes").asLong() > 0, line.toString());
            assertTrue(line.has("findings") && line.has("actors") && line.has("messagesPerSecond"), line.toString());
            long backlog = line.get("mailboxBacklog").asLong();
            long backlogMax = line.get("mailboxBacklogMax").asLong();
            assertTrue(backlog >= 0 && backlogMax >= backlog, "mailbox backlog: " + line);
            if (last) {
                continue;
            }
            assertTrue(line.get("counters").get("microOps").asLong() > 0, "each interval did work: " + line);
            // Every actor's Done reply waits in the time-keeper's mailbox for a moment: never none at all.
            assertTrue(backlogMax > 0, "mailbox backlog: " + line);
            JsonNode sleep = line.get("latencies").get("taskSleep");
            assertTrue(sleep.get("count").asLong() > 0 && sleep.get("p50Nanos").asLong() <= sleep.get("p99Nanos").asLong()
                    && sleep.get("p99Nanos").asLong() <= sleep.get("maxNanos").asLong(), line.toString());
        }
    }

    @Test
    void soakWritesACheckpointAndALinePerIntervalAndEndsWithItsFinalReport() throws Exception {
        // About 30 s with a checkpoint every 3 s (issue 5 §7); longer soaks: mvn -Plong-soak verify.
        Jar.Outcome o = run("soak", CONF.resolve("no-nmi.conf").toString(), "--duration", "30s", "--interval", "3s",
                "--out", "soak");
        assertEquals(0, o.exit(), o.out() + o.err());
        Path dir = tmp.resolve("soak");
        JsonNode r = report(dir.resolve("report.json"));
        assertContract(r, "soak");
        assertFalse(r.get("checkpoint").asBoolean());
        assertEquals("duration", r.get("endReason").asText());
        assertTrue(r.get("conservation").get("held").asBoolean());
        List<JsonNode> lines = intervalLines(dir);
        assertEquals(10, lines.size(), "a line every 3 s of 30 s, the last one ending with the run");
        assertIntervals(lines);
        assertEquals(lines.size(), r.get("soak").get("intervals").asInt());
        assertEquals(lines.size(), r.get("soak").get("heapAfterGc").get("samples").asInt());
        long sum = lines.stream().mapToLong(l -> l.get("counters").get("microOps").asLong()).sum();
        assertEquals(r.get("counters").get("microOps").asLong(), sum, "intervals add up to the total");
        assertTrue(o.out().contains("Soak: " + lines.size() + " intervals; live heap after a full GC: first "), o.out());
        assertLatencyLog(dir);
        long sleeps = lines.stream().mapToLong(l -> l.get("latencies").get("taskSleep").get("count").asLong()).sum();
        assertEquals(r.get("latencies").get("taskSleep").get("count").asLong(), sleeps, "intervals add up to the total");
        long settled = lines.get(1).get("heapAfterGcBytes").asLong();
        assertTrue(lines.stream().allMatch(l -> l.get("heapAfterGcBytes").asLong() < 2 * settled), "live heap bounded");
        assertTrue(Files.readString(dir.resolve("report.html")).contains("\"checkpoint\":false"), "the final page");
    }

    @Test
    void sigtermStopsASoakCleanlyWithTheFinalReportAndExits143() throws Exception {
        Process p = soakWithIntervals(3);
        Path dir = tmp.resolve("soak");
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "SIGTERM ends the soak");
        assertEquals(143, p.exitValue(), "stopped by SIGTERM: 128 + 15, the report written; "
                + Files.readString(tmp.resolve("stderr.txt")));
        JsonNode r = report(dir.resolve("report.json"));
        assertEquals("stopped", r.get("endReason").asText());
        assertFalse(r.get("checkpoint").asBoolean());
        assertTrue(r.get("conservation").get("held").asBoolean(), r.get("conservation").toString());
        assertIntervals(intervalLines(dir));
    }

    @Test
    void killNineLeavesTheLastCheckpointReadable() throws Exception {
        Process p = soakWithIntervals(2);
        Path dir = tmp.resolve("soak");
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        JsonNode r = report(dir.resolve("report.json"));
        assertEquals("soak", r.get("command").asText());
        assertTrue(r.get("checkpoint").asBoolean(), "the last checkpoint, complete");
        assertEquals("running", r.get("endReason").asText());
        assertTrue(r.get("counters").get("microOps").asLong() > 0);
        List<JsonNode> lines = intervalLines(dir);
        assertTrue(lines.size() >= 2);
        assertIntervals(lines);
        try (var files = Files.list(dir)) {
            assertEquals(List.of("intervals.jsonl", "latency.hlog", "report.html", "report.json"), files
                    .map(f -> f.getFileName().toString()).filter(n -> !n.endsWith(".tmp")).sorted().toList());
        }
        assertTrue(Files.readString(dir.resolve("report.html")).strip().endsWith("</html>"), "the last page, complete");
        assertLatencyLog(dir);
    }
}
