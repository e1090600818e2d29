package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.StrategySpec;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A farm node's handshake, against a probe in the coordinator's place: it says hello again until
 * answered (a message can be lost on the wire), and takes one welcome however many come (the
 * coordinator answers every hello), so it runs its worker threads once; stopped without a finish,
 * it leaves no copy of the job's files behind.
 */
class FarmNodeTest {
    private static final Path TOPOLOGY = Path.of(System.getProperty("vcpuemu.conf", "../../conf"))
            .resolve("scenarios/hazard-i-nmi-window.conf");

    private ActorSystem<Void> system;

    /** A system per test: a node finds any farm registered in its cluster. */
    @BeforeEach
    void start() throws Exception {
        system = ClusterNode.start(Behaviors.empty(), "127.0.0.1", 0, "--port");
        ClusterNode.found(system);
    }

    @AfterEach
    void stop() throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private ActorRef<FarmNode.Command> node(String name, int threads) {
        return system.systemActorOf(FarmNode.create("build", name, threads, new CompletableFuture<>()), name,
                Props.empty());
    }

    @Test
    void aNodeSaysHelloAgainUntilAnswered() {
        TestProbe<Farm.Command> farm = TestProbe.create(system);
        system.receptionist().tell(Receptionist.register(Farm.KEY, farm.ref()));
        node("hello", 1);
        farm.expectMessageClass(Farm.Hello.class, Duration.ofSeconds(10));
        // Unanswered: the hello comes again.
        Farm.Hello again = farm.expectMessageClass(Farm.Hello.class, FarmNode.HELLO_INTERVAL.multipliedBy(2));
        again.replyTo().tell(new FarmNode.Refused("test"));
        farm.expectNoMessage(FarmNode.HELLO_INTERVAL.multipliedBy(2));
    }

    @Test
    void aNodeTakesOneWelcomeHoweverManyCome() throws Exception {
        TestProbe<Receptionist.Listing> consumers = welcome("welcome", 2, 2);
        // Two worker threads registered their consumers; a second welcome would add two more.
        consumers.expectNoMessage(Duration.ofSeconds(2));
    }

    @Test
    void aNodeStoppedWithoutFinishDeletesItsCopy() throws Exception {
        Set<Path> before = copies();
        welcome("stopped", 1, 1);
        Set<Path> running = copies();
        running.removeAll(before);
        assertEquals(1, running.size(), "the welcomed node's copy of the job's files: " + running);
        // No Finish: the system goes down under the node, as on a coordinator's abort or a test's end.
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertTrue(Files.notExists(running.iterator().next()), "left behind: " + running);
    }

    /**
     * Starts node {@code name} with {@code threads} workers and sends it {@code welcomes} welcomes
     * to one job; returns once its workers have registered their consumers, watched by the probe.
     */
    private TestProbe<Receptionist.Listing> welcome(String name, int threads, int welcomes) throws Exception {
        TestProbe<Receptionist.Listing> consumers = TestProbe.create(system);
        system.receptionist().tell(Receptionist.subscribe(Farm.RANGES, consumers.ref()));
        TestProbe<Farm.Command> farm = TestProbe.create(system);
        ActorRef<FarmNode.Command> node = node(name, threads);
        Job job = new Job(TOPOLOGY.getFileName().toString(), Files.readString(TOPOLOGY), List.of("run.duration=1ms"),
                StrategySpec.random(), Job.Stop.EMULATOR_FAILURE, null, Long.MAX_VALUE, 1);
        for (int i = 0; i < welcomes; i++) {
            node.tell(new FarmNode.Welcome(job, farm.ref()));
        }
        consumers.fishForMessage(Duration.ofSeconds(10), l -> l.getServiceInstances(Farm.RANGES).size() == threads
                ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
        return consumers;
    }

    /** The node copies' folders now in the temporary directory. */
    private static Set<Path> copies() throws Exception {
        try (Stream<Path> all = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return all.filter(p -> p.getFileName().toString().startsWith("vcpu-emu-node")).collect(Collectors.toSet());
        }
    }
}
