package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One simulation over two cluster nodes in one JVM (two actor systems over Artery on 127.0.0.1,
 * as Pekko's own cluster tests do): the guests are shared out, the rounds cross between the
 * systems, the merged report holds every node's part; a node of another build is refused; a node
 * lost mid-run cuts the run short with a partial outcome that names it.
 */
class SplitRunTest {
    @TempDir
    Path dir;

    private static LoadedSettings topology(String duration) throws Exception {
        return new SettingsLoader().load(Optional.empty(), List.of("topology.guests=3", "topology.vcpus=2",
                "run.duration=" + duration, "run.progress-interval=200ms", "run.report=\"\""));
    }

    /** A node joining the coordinator at {@code seed}, saying it runs {@code build}. */
    private static ActorSystem<Void> node(String seed, String build, CompletableFuture<FarmNode.Ended> ended)
            throws Exception {
        ActorSystem<Void> node = ClusterNode.start(Behaviors.setup(ctx -> {
            ctx.spawn(SplitNode.create(build, ClusterNode.hostPort(ctx.getSystem()), ended), "split-node");
            return Behaviors.empty();
        }), "127.0.0.1", 0, "--port");
        ClusterNode.join(node, "127.0.0.1", Integer.parseInt(seed.substring(seed.lastIndexOf(':') + 1)));
        return node;
    }

    @Test
    void theGuestsAreSharedOutAndTheReportMergesEveryNodesPart() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            LoadedSettings loaded = topology("3s");
            RunControl control = RunControl.wallClock(Duration.ofSeconds(3), Duration.ofMillis(200));
            List<Progress> samples = new CopyOnWriteArrayList<>();
            CompletableFuture<FarmNode.Ended> ended = new CompletableFuture<>();
            ActorSystem<Void> node = null;
            Split.Outcome o;
            try (SplitRun run = new SplitRun(SplitJob.of(Path.of("default.conf"), loaded, 2),
                    loaded.settings().engine().quantumNanos(), control, samples::add, "127.0.0.1", 0, "--port", 0, dir, Duration.ofSeconds(60))) {
                node = node(run.address(), FarmSearch.build(), ended);
                o = run.await(Duration.ofSeconds(3), Duration.ofSeconds(30));
            } finally {
                if (node != null) {
                    node.terminate();
                }
            }
            assertEquals(null, o.badInput());
            assertFalse(o.partial());
            RunResult r = o.result();
            assertTrue(r.conservation().held(), r.conservation().detail());
            assertEquals(RunControl.DURATION, r.endReason());
            assertEquals(2, o.parts().size());
            List<Integer> guests = new ArrayList<>();
            long microOps = 0;
            for (SplitPart p : o.parts()) {
                guests.addAll(p.guests());
                microOps += p.counters().get("microOps");
                assertTrue(p.counters().get("microOps") > 0, "node " + p.index() + " ran its guests");
                assertEquals(2 * p.guests().size(), p.vcpus());
            }
            assertEquals(List.of(0, 2, 1), guests, "guest g on node g mod 2, nodes in address order");
            assertEquals(microOps, r.counters().get("microOps"));
            assertEquals(List.of("0/0", "0/1", "1/0", "1/1", "2/0", "2/1"),
                    r.vcpuTimes().stream().map(v -> v.guest() + "/" + v.vcpu()).toList());
            // One remote node: per round one answer from it and one decision to it.
            assertTrue(o.rounds() > 10, o.rounds() + " rounds");
            assertEquals(o.rounds(), o.crossNode().sent());
            assertEquals(o.rounds(), o.crossNode().received());
            assertTrue(o.crossNode().held());
            assertFalse(samples.isEmpty(), "progress is sampled over both nodes");
            assertTrue(samples.get(samples.size() - 1).counters().get("microOps") > 0);
            assertEquals(0, ended.get(30, TimeUnit.SECONDS).exitCode(), "the node is dismissed");
        });
    }

    @Test
    void aNodeOfAnotherBuildIsRefusedAndTheRunDoesNotStart() {
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            LoadedSettings loaded = topology("3s");
            CompletableFuture<FarmNode.Ended> ended = new CompletableFuture<>();
            ActorSystem<Void> node = null;
            Split.Outcome o;
            try (SplitRun run = new SplitRun(SplitJob.of(Path.of("default.conf"), loaded, 2),
                    loaded.settings().engine().quantumNanos(), RunControl.wallClock(Duration.ofSeconds(3),
                    Duration.ofSeconds(1)), p -> { }, "127.0.0.1", 0, "--port", 0, dir, Duration.ofSeconds(60))) {
                node = node(run.address(), "0.0.1 (elsewhere)", ended);
                o = run.await(Duration.ofSeconds(3), Duration.ofSeconds(30));
            } finally {
                if (node != null) {
                    node.terminate();
                }
            }
            assertNotNull(o.badInput());
            assertTrue(o.badInput().contains("another build (0.0.1 (elsewhere))"), o.badInput());
            assertEquals(2, ended.get(30, TimeUnit.SECONDS).exitCode());
        });
    }

    @Test
    void aNodeLostMidRunCutsTheRunShortAndIsNamed() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            LoadedSettings loaded = topology("60s");
            CompletableFuture<Progress> first = new CompletableFuture<>();
            ActorSystem<Void> node = null;
            Split.Outcome o;
            try (SplitRun run = new SplitRun(SplitJob.of(Path.of("default.conf"), loaded, 2),
                    loaded.settings().engine().quantumNanos(), RunControl.wallClock(Duration.ofSeconds(60),
                    Duration.ofMillis(200)), first::complete, "127.0.0.1", 0, "--port", 0, dir, Duration.ofSeconds(60))) {
                node = node(run.address(), FarmSearch.build(), new CompletableFuture<>());
                first.get(60, TimeUnit.SECONDS);
                String lost = ClusterNode.hostPort(node);
                node.terminate();
                o = run.await(Duration.ofSeconds(60), Duration.ofSeconds(30));
                assertTrue(o.partial());
                assertTrue(o.result().endReason().startsWith("node " + lost + " (guests 0, 2) ")
                                || o.result().endReason().startsWith("node " + lost + " (guests 1) "),
                        o.result().endReason());
                assertTrue(o.result().endReason().contains("ms virtual time"), o.result().endReason());
                assertTrue(o.result().conservation().detail().startsWith("not checked"));
            } finally {
                if (node != null) {
                    node.terminate();
                }
            }
        });
    }
}
