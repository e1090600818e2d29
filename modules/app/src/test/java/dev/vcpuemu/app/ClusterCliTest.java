package dev.vcpuemu.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input to the explore farm and to a run over several JVMs (src/site/markdown/cluster.md), in
 * this JVM: each is one line on stderr, exit 2, and nothing written. (A node of another build is
 * refused: FarmSearchTest, SplitRunTest.)
 */
class ClusterCliTest {
    private static final Path TOPOLOGY = Path.of(System.getProperty("vcpuemu.conf", "../../conf"))
            .resolve("scenarios/hazard-i-nmi-window.conf");

    @TempDir
    Path tmp;

    private void assertBadInput(InProcess.Outcome o, String says) {
        assertEquals(Main.BAD_INPUT, o.exit(), o.err());
        assertEquals(1, o.err().strip().lines().count(), o.err());
        assertTrue(o.err().contains(says), o.err());
    }

    private InProcess.Outcome explore(String... more) {
        String[] args = new String[more.length + 6];
        System.arraycopy(new String[] {"explore", TOPOLOGY.toString(), "--runs", "4", "--out", tmp.resolve("out").toString()},
                0, args, 0, 6);
        System.arraycopy(more, 0, args, 6, more.length);
        return InProcess.execute(args);
    }

    @Test
    void clusterOptionsThatDoNotFitAreOneLine() {
        assertBadInput(explore("--local-cluster", "0"), "--local-cluster: must be at least 1");
        assertBadInput(explore("--cluster", "--local-cluster", "2"), "choose one");
        assertBadInput(explore("--port", "2552"), "--port: only with --cluster");
        assertBadInput(explore("--cluster", "--port", "70000"), "0 to 65535");
        assertBadInput(explore("--local-cluster", "2", "--strategy", "windows"), "--strategy windows");
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    private InProcess.Outcome run(String... more) {
        String[] args = new String[more.length + 5];
        System.arraycopy(new String[] {"run", "--duration", "2s", "--report", tmp.resolve("r.json").toString()}, 0, args, 0, 5);
        System.arraycopy(more, 0, args, 5, more.length);
        return InProcess.execute(args);
    }

    @Test
    void runClusterOptionsThatDoNotFitAreOneLine() {
        assertBadInput(run("--local-cluster", "0"), "--local-cluster: must be at least 1");
        assertBadInput(run("--local-cluster", "2"), "--local-cluster 2: more nodes than guests (1)");
        assertBadInput(run("--cluster-nodes", "4", "--set", "topology.guests=3"), "more nodes than guests (3)");
        assertBadInput(run("--cluster-nodes", "2", "--local-cluster", "2", "--set", "topology.guests=2"), "choose one");
        assertBadInput(run("--port", "2552"), "--port: only with --cluster-nodes or --local-cluster");
        assertBadInput(run("--local-cluster", "2", "--set", "topology.guests=2", "--engine", "deterministic"),
                "the deterministic engine runs on one thread of one JVM");
        assertBadInput(run("--local-cluster", "2", "--set", "topology.guests=2", "--trace", tmp.resolve("t.json").toString()),
                "--trace: the timeline is written by one JVM");
        assertBadInput(run("--cluster-nodes", "2", "--set", "topology.guests=2", "--join-timeout", "soon"), "--join-timeout");
        assertFalse(Files.exists(tmp.resolve("r.json")));
    }

    @Test
    void runNodesThatDoNotJoinInTimeAreBadInput() {
        InProcess.Outcome o = run("--cluster-nodes", "2", "--port", "0", "--set", "topology.guests=2", "--join-timeout", "2s");
        assertBadInput(o, "--join-timeout: only 1 of 2 nodes (this one included) joined within 2s");
        assertFalse(Files.exists(tmp.resolve("r.json")));
    }

    @Test
    void aPortInUseIsBadInputNamingTheAddress() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            InProcess.Outcome o = explore("--cluster", "--port", String.valueOf(port));
            assertBadInput(o, "cannot listen on 127.0.0.1:" + port);
            assertFalse(Files.exists(tmp.resolve("out/report.json")));
            assertBadInput(run("--cluster-nodes", "2", "--set", "topology.guests=2", "--port", String.valueOf(port)),
                    "cannot listen on 127.0.0.1:" + port);
            assertFalse(Files.exists(tmp.resolve("r.json")));
        }
    }

    @Test
    void aTopologyThatIncludesAnotherFileIsFarmedOutResolved() throws IOException {
        // A node gets the topology as the coordinator resolved it: the included file's settings too
        // (else its runs would be other runs, and the failing run's re-run would not match).
        Path top = Files.writeString(tmp.resolve("top.conf"), "include file(\"" + TOPOLOGY.toAbsolutePath() + "\")\n"
                + "vcpu-emu.run.duration = 1ms\n");
        InProcess.Outcome o = InProcess.execute("explore", top.toString(), "--runs", "60", "--seed", "2000", "--find",
                "apf-word-stolen", "--local-cluster", "1", "--out", tmp.resolve("out").toString());
        assertEquals(Main.EXPECTATION_FAILED, o.exit(), o.out() + o.err());
        assertTrue(o.out().contains("run 11 of the search (seed 2010, on node 127.0.0.1:"), o.out());
        assertTrue(o.out().contains("(same as the run on node 127.0.0.1:"), o.out());
    }

    @Test
    void aNodeWithABadJoinAddressIsOneLine() {
        assertBadInput(InProcess.execute("node", "--join", "127.0.0.1"), "expected HOST:PORT");
        assertBadInput(InProcess.execute("node", "--join", "127.0.0.1:x"), "the port is not a number");
        assertBadInput(InProcess.execute("node", "--join", "127.0.0.1:2552", "--join-timeout", "soon"), "--join-timeout");
    }

    @Test
    void aJoinThatTimesOutIsBadInput() throws IOException {
        int free;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            free = probe.getLocalPort();
        }
        InProcess.Outcome o = InProcess.execute("node", "--join", "127.0.0.1:" + free, "--join-timeout", "2s");
        assertBadInput(o, "could not join the cluster within 2s");
    }
}
