package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.Explorer;
import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.model.finding.FindingKind;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The farm on one JVM (the coordinator is a node too): it runs the same runs as explore on one
 * JVM, adds up the same counts, and reports the same failing run.
 */
class FarmSearchTest {
    private static final Path TOPOLOGY = Path.of(System.getProperty("vcpuemu.conf", "../../conf"))
            .resolve("scenarios/hazard-i-nmi-window.conf");
    private static final List<String> SHORT = List.of("run.duration=2ms", "run.report=\"\"");
    private static final List<String> ONE_MS = List.of("run.duration=1ms", "run.report=\"\"");

    @TempDir
    Path dir;

    private Job job(StopRule stop, long first) throws Exception {
        return job(stop, first, SHORT);
    }

    private Job job(StopRule stop, long first, List<String> sets) throws Exception {
        return new Job(TOPOLOGY.getFileName().toString(), Files.readString(TOPOLOGY), sets, StrategySpec.random(),
                Job.stopOf(stop), stop.find(), Long.MAX_VALUE, first);
    }

    private Farm.View farm(Job job, long runs) {
        return assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            try (FarmSearch farm = new FarmSearch(job, runs, null, "127.0.0.1", 0, "--port", 2, 0, 1, dir,
                    new PrintWriter(new StringWriter()))) {
                farm.await();
                return farm.view();
            }
        });
    }

    @Test
    void theFailingRunIsTheLowestFailingOneAsOnOneJvm() throws Exception {
        // Runs of 1 ms from seed 2000: the first stolen word in run 11 (measured), so the farm's
        // threads take several ranges and race past each other before one fails.
        StopRule find = StopRule.find(FindingKind.APF_WORD_STOLEN);
        Explorer.Failure local = new Explorer(new DeterministicRunner(Optional.of(TOPOLOGY), ONE_MS),
                StrategySpec.random(), find, Long.MAX_VALUE, 2).run(2000, 60, Long.MAX_VALUE).failure();
        assertNotNull(local, "no stolen word in 60 runs from seed 2000");
        assertTrue(local.plan().index() >= 4, "the test wants a failure after several ranges");
        Farm.FailedRun farmed = farm(job(find, 2000, ONE_MS), 60).outcome().join().failure();
        assertNotNull(farmed);
        assertEquals(local.plan().index(), farmed.index());
        assertEquals(local.seed(), farmed.seed());
        assertEquals(local.result().traceHash(), farmed.traceHash());
    }

    @Test
    void aNodeOfAnotherBuildIsRefusedAtItsHello() throws Exception {
        FarmNode.Ended ended = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (FarmSearch farm = new FarmSearch(job(StopRule.emulatorFailure(), 1), 1, null, "127.0.0.1", 0, "--port", 1,
                    0, 1, dir, new PrintWriter(new StringWriter()))) {
                CompletableFuture<FarmNode.Ended> end = new CompletableFuture<>();
                ActorSystem<FarmNode.Command> other = ClusterNode.start(Behaviors.setup(ctx -> FarmNode.create(
                        "0.0.1 (deadbee)", ClusterNode.hostPort(ctx.getSystem()), 1, end)), "127.0.0.1", 0, "--port");
                try {
                    String[] seed = farm.address().split(":");
                    ClusterNode.join(other, seed[0], Integer.parseInt(seed[1]));
                    return end.get();
                } finally {
                    other.terminate();
                }
            }
        });
        assertEquals(2, ended.exitCode());
        assertTrue(ended.why().contains("this node 0.0.1 (deadbee)"), ended.why());
        assertTrue(ended.why().contains("every node must run the same build"), ended.why());
    }

    @Test
    void everyRunIsCountedAsOnOneJvm() throws Exception {
        StopRule all = StopRule.emulatorFailure();
        Farm.View view = farm(job(all, 100), 24);
        Farm.Outcome farmed = view.outcome().join();
        Explorer local = new Explorer(new DeterministicRunner(Optional.of(TOPOLOGY), SHORT), StrategySpec.random(), all,
                Long.MAX_VALUE, 2);
        local.run(100, 24, Long.MAX_VALUE);
        assertEquals(24, farmed.runs());
        assertEquals(1, farmed.nodes().size());
        assertEquals(24, farmed.nodes().get(0).runs());
        assertEquals(local.counts(), view.tally().counts(), "runs, findings, not-presents, round trips, simulated time");
        assertEquals(local.findings(), view.findings());
        assertEquals(local.estimate(FindingKind.APF_WORD_STOLEN), view.tally().estimate(FindingKind.APF_WORD_STOLEN));
    }
}
