package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.app.det.Tally;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.LatencyRecorders;
import dev.vcpuemu.engine.sim.QuantumPlan;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every message that crosses nodes of an explore farm or of a run over several JVMs, through
 * Pekko's serialization in a cluster node's actor system (Artery on 127.0.0.1): bound to Jackson
 * CBOR by its {@link ClusterMessage} mark, and equal after the round trip (as records, or, for
 * those holding arrays, which records compare by identity, as their JSON). A message that lost a
 * field, or fell back to another serializer, fails here rather than on the wire.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterMessagesTest {
    private ActorSystem<FarmNode.Command> system;
    private ActorRef<Farm.Command> farm;
    private ActorRef<Split.Command> splitCoordinator;
    private ActorRef<SplitNode.Command> splitNode;

    @BeforeAll
    void start() throws Exception {
        system = ClusterNode.start(Behaviors.empty(), "127.0.0.1", 0, "--port");
        farm = system.systemActorOf(Behaviors.<Farm.Command>empty(), "farm", Props.empty());
        splitCoordinator = system.systemActorOf(Behaviors.<Split.Command>empty(), "split", Props.empty());
        splitNode = system.systemActorOf(Behaviors.<SplitNode.Command>empty(), "split-node", Props.empty());
    }

    @AfterAll
    void stop() {
        system.terminate();
    }

    private List<ClusterMessage> splitMessages() {
        Histogram h = LatencyRecorders.total();
        for (long v = 1_000; v < 2_000_000; v += 7_919) {
            h.recordValue(v);
        }
        SplitJob job = new SplitJob("default.conf", "vcpu-emu { topology.guests = 3 }\n", 2, 1, 3);
        RunResult.VcpuTimes row = new RunResult.VcpuTimes(2, 7, new long[] {1, 2, 3, 4_000_000_000L, 0, 6});
        Finding finding = new Finding(FindingKind.APF_WORD_STOLEN, 3, 123_456, "the outer #PF read the NMI's token",
                List.of("12.3 us NMI", "12.4 us #PF"), 2);
        SplitPart part = new SplitPart(1, "127.0.0.1:2552", 4242, List.of(1, 3), 8_000, 12.5, 40_000_000,
                Map.of("microOps", 123L, "messages", 456L), Map.of(FindingKind.APF_WORD_STOLEN, 4L), List.of(finding), true,
                "tokens: 3 issued = 3 delivered", "duration", null, Map.of("swapIn", SplitPart.encode(h)),
                Map.of("nmi", new SplitPart.Timing(true, 10, 1, SplitPart.encode(h))), 501, 500, 1_234_567, 0);
        SplitPart failed = new SplitPart(0, "127.0.0.1:2553", 4243, List.of(0), 0, 0.1, 0, Map.of(), Map.of(), List.of(),
                false, "not checked", RunResult.FAULT, new RunResult.Fault("vcpu-3", "java.lang.IllegalStateException: x",
                List.of("at a.b(C.java:1)"), List.of("1 us tick")), Map.of(), Map.of(), 1, 1, 0, 0);
        return List.of(
                new Split.Hello("0.1.0-SNAPSHOT (abc1234)", "127.0.0.1:2552", 4242, splitNode),
                new Split.Ready(1),
                new Split.RoundDone(1, 17, 340_000, false, null, null, 0),
                new Split.RoundDone(1, 18, Long.MAX_VALUE, true, "guest panic: double fault",
                        Map.of("microOps", 5L, "messages", 9L), 2),
                new Split.PartDone(part),
                new Split.PartDone(failed),
                new Split.Rows(1, 3, List.of(row, row)),
                new SplitNode.Welcome(job, splitCoordinator),
                new SplitNode.Refused("the coordinator runs vcpu-emu 0.1.0 (abc), this node 0.1.0 (def)"),
                new SplitNode.Next(18, SplitNode.Decision.of(new QuantumPlan.Prime(60_000, 80_000))),
                new SplitNode.Next(19, SplitNode.Decision.of(new QuantumPlan.Open(60_000, 80_000, true, 100_000))),
                new SplitNode.Next(20, SplitNode.Decision.of(new QuantumPlan.Finish(80_000, "duration"))),
                SplitNode.Dismiss.INSTANCE,
                new SplitNode.Abort("node 127.0.0.1:2553 (guests 0) unreachable at 1.234 ms virtual time"));
    }

    private List<ClusterMessage> messages() {
        Job job = new Job("hazard.conf", "vcpu-emu { topology.vcpus = 4 }\n", List.of("run.duration=5ms", "run.report=\"\""),
                new StrategySpec(StrategySpec.Kind.pct, 3, 12_345, 0), Job.Stop.FIND, FindingKind.APF_WORD_STOLEN, 1_000_000,
                42);
        Farm.Range range = new Farm.Range(96, 32);
        Farm.FailedRun failed = new Farm.FailedRun(101, 143, "0121358a8ac2db5c", "finding: APF_WORD_STOLEN", "127.0.0.1:2552");
        Tally.Counts counts = new Tally.Counts(6, Map.of(FindingKind.APF_WORD_STOLEN, 3L, FindingKind.NESTED_NMI, 117L),
                Map.of(FindingKind.APF_WORD_STOLEN, 1L, FindingKind.NESTED_NMI, 6L), 512, 498, 30_000_000);
        return List.of(
                new Farm.Hello("0.1.0-SNAPSHOT (abc1234)", "127.0.0.1:2552", 4242, 2, system),
                range,
                failed,
                new Farm.RangeDone("127.0.0.1:2552", range, counts, 0.47, failed, null),
                new Farm.RangeDone("127.0.0.1:2552", null, Tally.Counts.NONE, 0, null, "cannot load the job's topology"),
                new FarmNode.Welcome(job, farm),
                new FarmNode.Welcome(new Job("t.conf", "", List.of(), StrategySpec.random(), Job.Stop.UNEXPECTED, null,
                        Long.MAX_VALUE, -7), farm),
                new FarmNode.Refused("the coordinator runs vcpu-emu 0.1.0 (abc), this node 0.1.0 (def)"),
                new FarmNode.Stop(101),
                FarmNode.Finish.INSTANCE);
    }

    private List<ClusterMessage> all() {
        List<ClusterMessage> all = new ArrayList<>(messages());
        all.addAll(splitMessages());
        return all;
    }

    @Test
    void everyCrossNodeMessageTravelsAsJacksonCbor() {
        var serialization = SerializationExtension.get(Adapter.toClassic(system));
        for (ClusterMessage m : all()) {
            assertEquals("JacksonCborSerializer", serialization.findSerializerFor(m).getClass().getSimpleName(),
                    m.getClass().getName());
        }
    }

    @Test
    void everyCrossNodeMessageComesBackEqual() {
        SerializationTestKit kit = new SerializationTestKit(system);
        for (ClusterMessage m : messages()) {
            assertEquals(m, kit.verifySerialization(m, true));
        }
    }

    @Test
    void everyMessageOfARunOverSeveralJvmsComesBackTheSame() throws Exception {
        SerializationTestKit kit = new SerializationTestKit(system);
        ObjectMapper json = new ObjectMapper();
        for (ClusterMessage m : splitMessages()) {
            assertEquals(json.writeValueAsString(m), json.writeValueAsString(kit.verifySerialization(m, false)),
                    m.getClass().getName());
        }
        SplitNode.Next open = (SplitNode.Next) kit.verifySerialization(
                new SplitNode.Next(19, SplitNode.Decision.of(new QuantumPlan.Open(60_000, 80_000, true, 100_000))), false);
        assertEquals(new QuantumPlan.Open(60_000, 80_000, true, 100_000), open.decision().toPlan());
        SplitPart part = ((Split.PartDone) kit.verifySerialization(splitMessages().get(4), false)).report();
        assertEquals(splitMessages().stream().filter(Split.PartDone.class::isInstance).findFirst().map(p ->
                ((Split.PartDone) p).report().latencySummaries()).orElseThrow(), part.latencySummaries(),
                "a histogram comes back with every value");
    }
}
