package dev.vcpuemu.engine;

import com.typesafe.config.Config;
import dev.vcpuemu.engine.det.SeededExecutor;
import dev.vcpuemu.engine.det.SeededExecutorConfigurator;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.sim.Machine;
import dev.vcpuemu.model.settings.Settings;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw Pekko, doing nothing but pass messages: the yardstick for the emulator's message rate
 * (the {@code bench} command). Ping-pong pairs on the very dispatcher a simulation of the same
 * settings would get, with as many actors as the simulation has and one message in flight per
 * actor, as each vCPU always has its next step in flight. The ball is a preallocated object:
 * no allocation per message, like the emulator's {@code Step}.
 *
 * <p>Every ball moves, in turn: the balls are served from a thread of the dispatcher itself. A
 * {@code ForkJoinPool} worker runs the tasks of its own queue before it looks at what threads
 * outside the pool submitted, so balls served from outside (the guardian's thread, as before
 * 2026-12-05) waited there for ever while the first pair each worker took up passed its two balls
 * between themselves: two players of 64, of 10,000 and of 100,000 carried every message, a
 * yardstick of two actors in the caches at every size. Served from inside, every player's
 * mailbox is on the workers' own queues (first in, first out), as the vCPUs' are once the
 * time-keeper's tick has reached them. {@link Result#leastPerActor()} shows it.
 *
 * <p>Three dispatchers: the concurrent engine's (fork-join over all cores, the configured
 * mailbox throughput), a plain single-threaded one (the deterministic engine's yardstick), and
 * the deterministic engine's own seeded executor (what its one-thread scheduling costs).
 */
public final class Baseline {
    /**
     * Messages passed between the start and the stop, the wall time between them, and the
     * fewest balls one player received.
     */
    public record Result(long messages, double wallSeconds, long leastPerActor) {
        public double messagesPerSecond() {
            return wallSeconds > 0 ? messages / wallSeconds : 0;
        }
    }

    public enum Dispatcher { CONCURRENT, SINGLE_THREAD, SEEDED }

    private static final AtomicLong RUNS = new AtomicLong();

    private Baseline() {
    }

    /**
     * Runs {@code actors} actors in ping-pong pairs (an odd one out plays with itself) for
     * {@code duration} of wall-clock time on the chosen dispatcher, sized from {@code settings}.
     */
    public static Result run(Dispatcher dispatcher, Settings settings, Config config, int actors, Duration duration)
            throws InterruptedException {
        String key = "baseline-" + RUNS.incrementAndGet();
        SeededExecutor executor = dispatcher == Dispatcher.SEEDED
                ? new SeededExecutor("vcpu-emu-" + key, Strategy.uniform(settings.run().seed()), null) : null;
        Config dispatcherConfig = switch (dispatcher) {
            case CONCURRENT -> Simulation.concurrentDispatcher(settings);
            case SINGLE_THREAD -> Simulation.forkJoinDispatcher(1, settings);
            case SEEDED -> Simulation.deterministicDispatcher(key, settings);
        };
        if (executor != null) {
            SeededExecutorConfigurator.register(key, executor);
        }
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<List<ActorRef<Player.Command>>> players = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            DispatcherSelector sim = DispatcherSelector.fromConfig(Machine.DISPATCHER);
            List<ActorRef<Player.Command>> all = new ArrayList<>();
            for (int i = 0; i < actors; i++) {
                all.add(ctx.spawn(Player.create(stop), "player-" + i, sim));
            }
            // Served from a thread of the simulation dispatcher (see above), which for the seeded
            // executor is also the one thread it takes work from while it is busy.
            ctx.spawn(Behaviors.setup(server -> {
                for (int i = 0; i < actors; i++) {
                    int partner = (i ^ 1) < actors ? i ^ 1 : i;
                    all.get(i).tell(new Player.Serve(all.get(partner)));
                }
                return Behaviors.empty();
            }), "server", sim);
            players.complete(all);
            return Behaviors.empty();
        }), "vcpu-emu-baseline", dispatcherConfig.withFallback(config));
        try {
            List<ActorRef<Player.Command>> all = players.get(30, TimeUnit.SECONDS);
            long start = System.nanoTime();
            Thread.sleep(duration.toMillis());
            stop.set(true);
            double wall = (System.nanoTime() - start) / 1e9;
            // Balls stop at the flag; the counts are asked for once the dispatcher is idle.
            long messages = 0;
            long least = Long.MAX_VALUE;
            for (ActorRef<Player.Command> p : all) {
                CompletableFuture<Long> count = new CompletableFuture<>();
                p.tell(new Player.Count(count));
                long received = count.get(30, TimeUnit.SECONDS);
                messages += received;
                least = Math.min(least, received);
            }
            return new Result(messages, wall, least);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("baseline did not answer", e);
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // The figures are in hand.
            }
            if (executor != null) {
                executor.shutdown();
                SeededExecutorConfigurator.unregister(key);
            }
        }
    }

    /** One side of a ping-pong pair: returns every ball it gets, until the stop flag is up. */
    static final class Player extends AbstractBehavior<Player.Command> {
        sealed interface Command permits Serve, Ball, Count {}

        /** Starts this player's own ball towards {@code partner}. */
        record Serve(ActorRef<Command> partner) implements Command {}

        record Ball(ActorRef<Command> owner) implements Command {}

        record Count(CompletableFuture<Long> result) implements Command {}

        static Behavior<Command> create(AtomicBoolean stop) {
            return Behaviors.setup(ctx -> new Player(ctx, stop));
        }

        private final AtomicBoolean stop;
        private final Ball mine;
        private ActorRef<Command> partner;
        private long received;

        private Player(ActorContext<Command> ctx, AtomicBoolean stop) {
            super(ctx);
            this.stop = stop;
            this.mine = new Ball(ctx.getSelf());
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Serve.class, this::onServe)
                    .onMessage(Ball.class, this::onBall)
                    .onMessage(Count.class, this::onCount)
                    .build();
        }

        private Behavior<Command> onServe(Serve s) {
            partner = s.partner();
            partner.tell(mine);
            return this;
        }

        private Behavior<Command> onBall(Ball b) {
            received++;
            if (!stop.get()) {
                // A ball goes back to its owner; the own ball goes to the partner.
                (b.owner() == getContext().getSelf() ? partner : b.owner()).tell(b);
            }
            return this;
        }

        private Behavior<Command> onCount(Count c) {
            c.result().complete(received);
            return this;
        }
    }
}
