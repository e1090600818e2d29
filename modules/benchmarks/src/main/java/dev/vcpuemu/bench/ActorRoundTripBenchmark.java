package dev.vcpuemu.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.det.Draws;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.sim.Machine;
import dev.vcpuemu.engine.sim.PagingWorker;
import dev.vcpuemu.engine.sim.VcpuActor;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.LatencySink;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Round trips vCPU → paging worker → vCPU per second on a real Pekko actor system: the real
 * {@link PagingWorker} on a simulation dispatcher built as the concurrent engine builds it
 * (fork-join over every core, mailbox throughput 5), and a small actor standing in for the
 * vCPU. One round trip is the engine's path of every async fault: the vCPU's {@code Start} and
 * the worker's {@code WorkDone}, sent at once with the swap-in's due time (two messages). It
 * bounds how many faults per second the actors can carry, whatever the model costs.
 *
 * <p>{@code inFlight} round trips are kept outstanding at once: 1 measures the latency of the
 * path, more measure what the worker's mailbox can carry.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ActorRoundTripBenchmark {
    static final int ROUND_TRIPS = 1000;

    @Param({"1", "16"})
    public int inFlight;

    private ActorSystem<Go> system;

    /** Run {@code roundTrips} round trips, {@code inFlight} at a time, then complete {@code done}. */
    record Go(int roundTrips, int inFlight, CompletableFuture<Void> done) {}

    @Setup(Level.Trial)
    public void startSystem() {
        Settings settings = TestSettings.interrupt().swapIn(100_000).build();
        Config config = Simulation.concurrentDispatcher(settings)
                .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING"))
                .withFallback(ConfigFactory.load());
        system = ActorSystem.create(Behaviors.setup(ctx -> {
            ActorRef<Object> vcpu = ctx.spawn(StandIn.create(settings), "vcpu-0",
                    DispatcherSelector.fromConfig(Machine.DISPATCHER));
            return Behaviors.receiveMessage(go -> {
                vcpu.tell(go);
                return Behaviors.same();
            });
        }), "vcpu-emu-bench", config);
    }

    @TearDown(Level.Trial)
    public void stopSystem() throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void roundTrips() throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        system.tell(new Go(ROUND_TRIPS, inFlight, done));
        done.get(10, TimeUnit.SECONDS);
    }

    /** The vCPU: sends a work item to its paging worker and takes the worker's {@code WorkDone} as the end of a round trip. */
    private static final class StandIn extends AbstractBehavior<Object> {
        private final ActorRef<PagingWorker.Command> worker;
        private final PagingWorker.Start start;
        private Go go;
        private int sent;
        private int answered;

        static Behavior<Object> create(Settings settings) {
            return Behaviors.setup(ctx -> new StandIn(ctx, settings));
        }

        private StandIn(ActorContext<Object> ctx, Settings settings) {
            super(ctx);
            ActorRef<VcpuActor.Command> self = ctx.getSelf().narrow();
            this.worker = ctx.spawn(PagingWorker.create("paging-worker-0", 0, settings, LatencySink.NONE, null,
                            Draws.OWN),
                    "paging-worker-0", DispatcherSelector.fromConfig(Machine.DISPATCHER));
            this.start = new PagingWorker.Start(new WorkItem(0, 0x1000, 3, false, true, 0, 0), self);
        }

        @Override
        public Receive<Object> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Go.class, this::onGo)
                    .onMessage(VcpuActor.WorkDone.class, this::onWorkDone)
                    .build();
        }

        private Behavior<Object> onGo(Go g) {
            go = g;
            sent = 0;
            answered = 0;
            while (sent < Math.min(g.inFlight(), g.roundTrips())) {
                send();
            }
            return this;
        }

        private Behavior<Object> onWorkDone(VcpuActor.WorkDone w) {
            answered++;
            if (sent < go.roundTrips()) {
                send();
            } else if (answered == go.roundTrips()) {
                go.done().complete(null);
            }
            return this;
        }

        private void send() {
            sent++;
            worker.tell(start);
        }
    }
}
