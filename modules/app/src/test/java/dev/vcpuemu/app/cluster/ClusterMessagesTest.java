package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.app.det.Tally;
import dev.vcpuemu.model.finding.FindingKind;
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

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every message that crosses nodes of an explore farm, through Pekko's serialization in a
 * cluster node's actor system (Artery on 127.0.0.1): bound to Jackson CBOR by its
 * {@link ClusterMessage} mark, and equal after the round trip. A message that lost a field, or
 * fell back to another serializer, fails here rather than on the wire.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterMessagesTest {
    private ActorSystem<FarmNode.Command> system;
    private ActorRef<Farm.Command> farm;

    @BeforeAll
    void start() throws Exception {
        system = ClusterNode.start(Behaviors.empty(), "127.0.0.1", 0, "--port");
        farm = system.systemActorOf(Behaviors.<Farm.Command>empty(), "farm", Props.empty());
    }

    @AfterAll
    void stop() {
        system.terminate();
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

    @Test
    void everyCrossNodeMessageTravelsAsJacksonCbor() {
        var serialization = SerializationExtension.get(Adapter.toClassic(system));
        for (ClusterMessage m : messages()) {
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
}
