package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster modes of the shaded jar on this machine (src/site/markdown/cluster.md). The explore
 * farm: three JVMs on 127.0.0.1 find the NMI-window hazard and the printed replay command
 * reproduces it in one JVM; a worker killed with SIGKILL mid-search is downed and its ranges run
 * elsewhere, so the farm's estimate is exactly one JVM's; no worker JVM outlives its coordinator,
 * even one killed with SIGKILL. One simulation over several JVMs: 100,000 vCPUs on four JVMs
 * give one merged report; a node killed with SIGKILL mid-run ends the run at once, exit 3, with a
 * partial report naming it, and no JVM is left.
 */
class ClusterIT {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf")).toAbsolutePath();
    private static final String NMI_WINDOW = CONF.resolve("scenarios/hazard-i-nmi-window.conf").toString();
    private static final Pattern COORDINATOR = Pattern.compile("coordinating at (127\\.0\\.0\\.1:\\d+)");
    private static final Pattern NODE_ROW = Pattern.compile("(?m)^  127\\.0\\.0\\.1:\\d+\\s+pid (\\d+)\\s+");
    private static final Pattern HASH = Pattern.compile("trace hash ([0-9a-f]{16})", Pattern.CASE_INSENSITIVE);

    @TempDir
    Path tmp;

    @Test
    void threeJvmsFindTheNmiWindowHazardAndOneJvmReplaysIt() throws Exception {
        Path out = tmp.resolve("farm");
        Jar.Outcome o = Jar.run(tmp, "explore", NMI_WINDOW, "--local-cluster", "3", "--find", "apf-word-stolen", "--runs", "200",
                "--duration", "1ms", "--seed", "2000", "--out", out.toString());
        assertEquals(Main.EXPECTATION_FAILED, o.exit(), o.out() + o.err());
        assertTrue(o.out().contains("3 JVMs x 1 thread(s)"), o.out());
        List<String> pids = all(NODE_ROW, o.out());
        assertEquals(3, pids.size(), o.out());
        assertEquals(3, pids.stream().distinct().count(), o.out());
        assertTrue(o.out().contains("(same as the run on node 127.0.0.1:"), o.out());
        String hash = all(HASH, o.out()).get(0);
        assertNoNodeLeft(o.out());

        // The first printed replay command, in one JVM: the same run, the same trace hash.
        String replay = o.out().lines().filter(l -> l.startsWith("  java -jar ") && l.contains(" replay ")).findFirst()
                .orElseThrow().strip();
        List<String> args = new ArrayList<>(Arrays.asList(replay.split(" ")));
        args = args.subList(3, args.size());
        Path one = Files.createDirectories(tmp.resolve("replay"));
        Jar.Outcome r = Jar.run(one, args.toArray(String[]::new));
        assertEquals(Main.EXPECTATION_FAILED, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("Trace hash: " + hash), hash + " in " + r.out());
    }

    @Test
    void aWorkerKilledMidSearchIsDownedAndItsRunsRunElsewhere() throws Exception {
        Path farmDir = Files.createDirectories(tmp.resolve("farm"));
        Process coordinator = searching(farmDir, 1500);
        // Every node is at work: kill one.
        ProcessHandle worker = coordinator.toHandle().children().findFirst().orElseThrow();
        assertTrue(worker.destroyForcibly());
        assertTrue(coordinator.waitFor(120, TimeUnit.SECONDS), "the search ends without the killed worker");
        String out = Files.readString(farmDir.resolve("stdout.txt"));
        String err = Files.readString(farmDir.resolve("stderr.txt"));
        assertEquals(Main.OK, coordinator.exitValue(), out + err);
        assertTrue(err.contains("is unreachable: downed; its unfinished ranges go to the others"), err);
        assertNoNodeLeft(out);

        Path oneDir = Files.createDirectories(tmp.resolve("one"));
        Jar.Outcome one = Jar.run(oneDir, "explore", NMI_WINDOW, "--estimate", "apf-word-stolen", "--runs", "1500",
                "--duration", "1ms", "--out", oneDir.resolve("out").toString());
        assertEquals(Main.OK, one.exit(), one.err());
        JsonNode farmed = new ObjectMapper().readTree(farmDir.resolve("out/estimate.json").toFile());
        JsonNode alone = new ObjectMapper().readTree(oneDir.resolve("out/estimate.json").toFile());
        for (String field : List.of("runs", "runsWith", "findings", "notPresents", "simulatedNanos")) {
            assertEquals(alone.get(field), farmed.get(field), field);
        }
        assertEquals(1500, farmed.get("runs").asLong());
        // Where the runs ran: three nodes, the killed one among them, whose runs add up.
        JsonNode nodes = farmed.get("cluster").get("nodes");
        assertEquals(3, nodes.size(), nodes.toString());
        long sum = 0;
        for (JsonNode n : nodes) {
            sum += n.get("runs").asLong();
        }
        assertEquals(1500, sum, nodes.toString());
        assertTrue(nodes.toString().contains("\"pid\":" + worker.pid()), nodes.toString());
        assertEquals(null, alone.get("cluster"));
    }

    /** Ctrl-C at the coordinator halts the farm as its time limit would: the estimate of the runs done, exit 130. */
    @Test
    void ctrlCAtTheCoordinatorEndsTheFarmsSearchWithTheRunsDoneAndExits130() throws Exception {
        Path farmDir = Files.createDirectories(tmp.resolve("halted"));
        Process coordinator = searching(farmDir, 10_000_000);
        List<ProcessHandle> workers = coordinator.toHandle().children().toList();
        try {
            Jar.assumeSigintReaches(coordinator);
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(coordinator.pid())).start().waitFor());
            assertTrue(coordinator.waitFor(60, TimeUnit.SECONDS), "SIGINT ends the search");
        } finally {
            coordinator.destroyForcibly();
        }
        String out = Files.readString(farmDir.resolve("stdout.txt"));
        String err = Files.readString(farmDir.resolve("stderr.txt"));
        assertEquals(130, coordinator.exitValue(), out + err);
        assertTrue(err.contains("vcpu-emu: SIGINT: no new runs"), err);
        assertNoNodeLeft(out);
        for (ProcessHandle w : workers) {
            assertTrue(w.onExit().get(30, TimeUnit.SECONDS) != null && !w.isAlive(), "worker " + w.pid() + " ended");
        }
        JsonNode estimate = new ObjectMapper().readTree(farmDir.resolve("out/estimate.json").toFile());
        long runs = estimate.get("runs").asLong();
        assertTrue(runs > 0 && runs < 10_000_000, "the runs done before the signal: " + runs);
        long sum = 0;
        for (JsonNode n : estimate.get("cluster").get("nodes")) {
            sum += n.get("runs").asLong();
        }
        assertEquals(runs, sum, estimate.get("cluster").toString());
    }

    @Test
    void workersEndWhenTheirCoordinatorIsKilled() throws Exception {
        Path farmDir = Files.createDirectories(tmp.resolve("orphans"));
        Process coordinator = searching(farmDir, 100_000);
        List<ProcessHandle> workers = coordinator.toHandle().children().toList();
        assertEquals(2, workers.size());
        coordinator.toHandle().destroyForcibly();
        assertTrue(coordinator.waitFor(10, TimeUnit.SECONDS));
        // Each worker sees its coordinator unreachable and exits: none is left after 30 s.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end && workers.stream().anyMatch(ProcessHandle::isAlive)) {
            Thread.sleep(200);
        }
        for (ProcessHandle w : workers) {
            assertFalse(w.isAlive(), "worker " + w.pid() + " outlived its coordinator");
        }
        for (Path log : List.of(farmDir.resolve("out/node-1.log"), farmDir.resolve("out/node-2.log"))) {
            assertTrue(Files.readString(log).contains("node: lost the coordinator at 127.0.0.1:"), Files.readString(log));
        }
    }

    @Test
    void aHundredThousandVcpusRunOnFourJvmsAsOneSimulation() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("split"));
        // Short quanta (5 us: a few dozen micro-ops per vCPU) so that several pass: the first waits
        // for every node to build and wire its 25,000 vCPUs, and one quantum of them is a second or more.
        Process p = Jar.command(dir, List.of("-Xmx1g"), "run", "--local-cluster", "4", "--duration", "15s",
                "--set", "topology.guests=32", "--set", "topology.vcpus=3125", "--set", "engine.parallelism=1",
                "--set", "engine.quantum=5us", "--report", dir.resolve("r.json").toString()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the run ends on its own");
        String out = Files.readString(dir.resolve("stdout.txt"));
        assertEquals(Main.OK, p.exitValue(), out + Files.readString(dir.resolve("stderr.txt")));
        assertNoNodeLeft(out);

        JsonNode r = new ObjectMapper().readTree(dir.resolve("r.json").toFile());
        assertTrue(r.get("conservation").get("held").asBoolean(), r.get("conservation").toString());
        assertFalse(r.get("partial").asBoolean());
        assertEquals(0, r.get("counters").get("deadLetters").asLong());
        JsonNode cluster = r.get("cluster");
        JsonNode nodes = cluster.get("nodes");
        assertEquals(4, nodes.size());
        List<Long> pids = new ArrayList<>();
        List<Integer> guests = new ArrayList<>();
        long microOps = 0;
        long findings = 0;
        java.util.Map<String, Long> latencyCounts = new java.util.TreeMap<>();
        for (JsonNode n : nodes) {
            pids.add(n.get("pid").asLong());
            assertEquals(8, n.get("guests").size(), n.toString());
            n.get("guests").forEach(g -> guests.add(g.asInt()));
            assertEquals(25_000, n.get("vcpus").asInt(), n.toString());
            assertTrue(n.get("microOps").asLong() > 0, n.toString());
            microOps += n.get("microOps").asLong();
            findings += n.get("findings").asLong();
            n.get("latencyCounts").fields().forEachRemaining(e -> latencyCounts.merge(e.getKey(), e.getValue().asLong(),
                    Long::sum));
        }
        assertEquals(4, pids.stream().distinct().count(), pids.toString());
        assertEquals(32, guests.stream().distinct().count(), "each guest on exactly one node: " + guests);
        assertEquals(100_000, r.get("vcpuTimes").size());
        assertEquals(microOps, r.get("counters").get("microOps").asLong());
        long reported = 0;
        for (JsonNode f : r.get("findings")) {
            reported += f.isNumber() ? f.asLong() : f.get("count").asLong();
        }
        assertEquals(findings, reported);
        latencyCounts.forEach((kind, count) -> assertEquals(count, r.get("latencies").get(kind).get("count").asLong(), kind));
        JsonNode cross = cluster.get("crossNodeMessages");
        assertEquals(0, cross.get("dropped").asLong());
        assertEquals(cross.get("sent").asLong(), cross.get("received").asLong());
        assertEquals(6.0, cross.get("perRound").asDouble(), "2 x (4 - 1) messages between JVMs per round");
    }

    @Test
    void aNodeKilledMidRunEndsTheRunAtOnceWithAPartialReport() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("cut"));
        Process coordinator = Jar.command(dir, "run", "--local-cluster", "3", "--duration", "100s", "--set",
                "topology.guests=3", "--report", dir.resolve("r.json").toString()).start();
        // The first progress line (10 % of the run): every node is at work.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.readString(dir.resolve("stderr.txt")).contains("sim ")) {
            assertTrue(System.nanoTime() < deadline && coordinator.isAlive(), "no progress: "
                    + Files.readString(dir.resolve("stderr.txt")));
            Thread.sleep(100);
        }
        ProcessHandle node = coordinator.toHandle().children().findFirst().orElseThrow();
        assertTrue(node.destroyForcibly());
        assertTrue(coordinator.waitFor(15, TimeUnit.SECONDS), "the coordinator ends within 15 s of the kill");
        String out = Files.readString(dir.resolve("stdout.txt"));
        String err = Files.readString(dir.resolve("stderr.txt"));
        assertEquals(Main.EMULATOR_FAILURE, coordinator.exitValue(), out + err);
        assertNoNodeLeft(out);

        JsonNode r = new ObjectMapper().readTree(dir.resolve("r.json").toFile());
        assertTrue(r.get("partial").asBoolean());
        String why = r.get("endReason").asText();
        assertTrue(why.matches("node 127\\.0\\.0\\.1:\\d+ \\(guests \\d\\) (unreachable|gone) at [0-9.]+ ms virtual time"), why);
        assertTrue(r.get("conservation").get("detail").asText().startsWith("not checked"), r.get("conservation").toString());
        assertTrue(err.contains("the run was cut short: " + why), err);
        boolean named = false;
        for (JsonNode n : r.get("cluster").get("nodes")) {
            named |= n.get("pid").asLong() == node.pid() && why.startsWith("node " + n.get("address").asText() + " (guests "
                    + n.get("guests").get(0).asInt() + ")");
        }
        assertTrue(named, "the end reason names the killed node (pid " + node.pid() + "): " + r.get("cluster"));
    }

    /**
     * A farm of three JVMs estimating over {@code runs} 1 ms runs in {@code dir}, once its progress
     * line counts runs: then every node has joined (the coordinator waits for them).
     */
    private static Process searching(Path dir, long runs) throws Exception {
        Process coordinator = Jar.command(dir, "explore", NMI_WINDOW, "--local-cluster", "3", "--estimate",
                "apf-word-stolen", "--runs", String.valueOf(runs), "--duration", "1ms", "--out", dir.resolve("out").toString())
                .start();
        Pattern counting = Pattern.compile("explore: [1-9]\\d*/" + runs + " runs");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!counting.matcher(Files.readString(dir.resolve("stderr.txt"))).find()) {
            assertTrue(System.nanoTime() < deadline && coordinator.isAlive(), "no progress: "
                    + Files.readString(dir.resolve("stderr.txt")));
            Thread.sleep(100);
        }
        return coordinator;
    }

    private static List<String> all(Pattern p, String text) {
        List<String> found = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** No process joined to the coordinator printed in {@code out} is still running (waiting up to 30 s). */
    private static void assertNoNodeLeft(String out) throws InterruptedException {
        Matcher m = COORDINATOR.matcher(out);
        assertTrue(m.find(), out);
        String join = "--join " + m.group(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && nodes(join) > 0) {
            Thread.sleep(200);
        }
        assertEquals(0, nodes(join), "worker JVMs still running with " + join);
    }

    private static long nodes(String join) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(join)).orElse(false)).count();
    }
}
