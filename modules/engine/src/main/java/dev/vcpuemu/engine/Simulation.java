package dev.vcpuemu.engine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.det.Draws;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.SeededExecutorConfigurator;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.CountingMailbox;
import dev.vcpuemu.engine.sim.Machine;
import dev.vcpuemu.engine.sim.TimeKeeper;
import dev.vcpuemu.engine.timeline.TrackSinks;
import dev.vcpuemu.model.settings.Settings;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * Runs one simulation: an actor system whose simulation actors live on their own dispatcher
 * (DESIGN §3), sized from {@code vcpu-emu.engine}. Pekko's JVM shutdown hook is switched off:
 * the application decides what a signal means (stop the run, write the report), so nothing is
 * lost when a run is interrupted.
 *
 * <p>Both engines run the very same actors. The concurrent engine puts them on a fork-join
 * dispatcher over all cores; the deterministic engine (a {@link DeterministicHost}) on a seeded
 * executor whose one thread picks the next ready mailbox by a {@link Strategy}, with a trace
 * hashing every delivered event.
 */
public final class Simulation {
    /** How long past its duration a concurrent run may take to wind down before it counts as hung. */
    public static final Duration GRACE = Duration.ofSeconds(30);

    private static final AtomicLong RUNS = new AtomicLong();

    private Simulation() {
    }

    /** A concurrent run. */
    public static RunResult run(Settings settings, Config config, RunControl control, Consumer<Progress> progress)
            throws InterruptedException, TimeoutException {
        return run(settings, config, control, progress, null);
    }

    /**
     * A concurrent run.
     *
     * @param timeline where the vCPUs and workers record their last events (a trace file), or null;
     *                 complete when this returns (the actor system has terminated)
     */
    public static RunResult run(Settings settings, Config config, RunControl control, Consumer<Progress> progress,
                                TrackSinks timeline) throws InterruptedException, TimeoutException {
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        int threads = threads(settings);
        control.threads(threads);
        ActorSystem<Void> system = start(settings, forkJoinDispatcher(threads, settings).withFallback(config), control,
                result, progress, timeline, g -> true, null);
        try {
            return result.get(control.duration().plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("simulation failed", e.getCause());
        } finally {
            terminate(system);
        }
    }

    /**
     * Starts a node's part of a run over several JVMs: the guests {@code guests} accepts, on the
     * concurrent engine's dispatcher, with the rounds decided through {@code gate} (the node's
     * time-keeper answers there; see {@link TimeKeeper.Gate}). The part's result completes when a
     * decision ends the run and the part is frozen; it is the part's own report, conservation
     * checked over its own actors. No progress is sampled here: the coordinator samples.
     */
    public static Part startPart(Settings settings, Config config, RunControl control, IntPredicate guests,
                                 TimeKeeper.Gate gate) {
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        // The threads for the vCPUs this node holds, not the whole topology's.
        int threads = threads(settings, IntStream.range(0, settings.topology().guests()).filter(guests).count()
                * settings.topology().vcpus());
        control.threads(threads);
        ActorSystem<Void> system = start(settings, forkJoinDispatcher(threads, settings).withFallback(config), control,
                result, null, null, guests, gate);
        return new Part(result, system);
    }

    /** A node's part of a run: its result to come, and its actor system, ended by {@link #close()}. */
    public record Part(CompletableFuture<RunResult> result, ActorSystem<Void> system) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            terminate(system);
        }
    }

    /**
     * A deterministic run in an actor system of its own: {@code control} must bound it in virtual
     * time (or steps), since its wall time depends on the machine. The result carries the trace
     * hash and the number of scheduling steps. Many runs in a row: {@link DeterministicHost}.
     *
     * @param record every scheduling choice up to the result is appended here, or null
     * @param timeline where the vCPUs and workers record their last events (a trace file), or null
     */
    public static RunResult runDeterministic(Settings settings, Config config, RunControl control,
                                             Consumer<Progress> progress, Strategy strategy, Schedule record,
                                             TrackSinks timeline) throws InterruptedException {
        try (DeterministicHost host = new DeterministicHost(settings, config, control.countsMailboxBacklog())) {
            return host.run(settings, control, progress, strategy, record, timeline);
        }
    }

    private static ActorSystem<Void> start(Settings settings, Config config, RunControl control,
                                           CompletableFuture<RunResult> result, Consumer<Progress> progress,
                                           TrackSinks timeline, IntPredicate guests, TimeKeeper.Gate gate) {
        String backlogKey = null;
        if (control.countsMailboxBacklog()) {
            backlogKey = "backlog-" + RUNS.incrementAndGet();
            control.backlogGauge(CountingMailbox.register(backlogKey)::sum);
            config = countingMailbox(backlogKey).withFallback(config);
        }
        ActorSystem<Void> system = ActorSystem.create(
                Behaviors.setup(ctx -> {
                    ctx.spawn(Machine.create(settings, control, result, progress, null, timeline, Draws.OWN, guests, gate),
                            "machine",
                            DispatcherSelector.fromConfig(Machine.DISPATCHER));
                    return Behaviors.empty();
                }),
                "vcpu-emu", config);
        if (backlogKey != null) {
            String key = backlogKey;
            system.getWhenTerminated().thenRun(() -> CountingMailbox.unregister(key));
        }
        return system;
    }

    private static void terminate(ActorSystem<Void> system) throws InterruptedException {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // The result is already in hand; a slow shutdown does not change it.
        }
    }

    /** The simulation mailbox that counts its backlog into the gauge registered as {@code key}. */
    static Config countingMailbox(String key) {
        return ConfigFactory.parseString(Machine.MAILBOX + " { mailbox-type = \"" + CountingMailbox.class.getName()
                + "\", " + CountingMailbox.KEY + " = \"" + key + "\" }");
    }

    /** The concurrent simulation dispatcher and the shutdown settings, derived from the typed settings. */
    public static Config concurrentDispatcher(Settings settings) {
        return forkJoinDispatcher(threads(settings), settings);
    }

    /**
     * The work of a quantum, in vCPU steps (step messages: {@code vcpus x quantum / (op-cost x
     * micro-ops-per-step)}, as if every vCPU ran), that earns the concurrent engine one more
     * thread when {@code engine.parallelism} is 0. Every quantum ends at a barrier that every
     * participant answers, and a message handed to another thread costs far more than one taken on
     * the same: with more threads than the quantum has work for, the threads trade messages
     * instead of running the model, and one thread is faster than two. Measured on this project's
     * 2-core machine (src/site/markdown/performance.md, "Threads from the topology"): the stress
     * topology (4,000 steps per vCPU per quantum) ran faster on one thread up to 8 vCPUs (32,000
     * steps), 1.2x faster on two at 16 and 1.5x at 64; the default topology's vCPUs (62.5 steps
     * each) ran faster on one thread at every size from 4 to 64 (4,000 steps).
     */
    static final long STEPS_PER_THREAD = 32_000;

    /** The concurrent simulation dispatcher's threads for all of {@code settings}' vCPUs. */
    public static int threads(Settings settings) {
        return threads(settings, settings.topology().totalVcpus());
    }

    /** The concurrent simulation dispatcher's threads for {@code vcpus} of {@code settings}' vCPUs. */
    static int threads(Settings settings, long vcpus) {
        var e = settings.engine();
        long stepsPerQuantum = Math.max(1, e.quantumNanos() / (e.opCostNanos() * e.microOpsPerStep()));
        return threads(e.parallelism(), vcpus * stepsPerQuantum, Runtime.getRuntime().availableProcessors());
    }

    /**
     * The concurrent engine's threads: {@code parallelism} when it is set (> 0); else chosen from
     * the work of a quantum ({@code steps}): one thread per {@link #STEPS_PER_THREAD}, at least one,
     * at most {@code cores}.
     */
    static int threads(int parallelism, long steps, int cores) {
        if (parallelism > 0) {
            return parallelism;
        }
        return (int) Math.max(1, Math.min(cores, steps / STEPS_PER_THREAD));
    }

    /** The concurrent simulation dispatcher with {@code parallelism} threads. */
    static Config forkJoinDispatcher(int parallelism, Settings settings) {
        var e = settings.engine();
        return ConfigFactory.parseString(String.join("\n",
                Machine.DISPATCHER + " {",
                "  type = Dispatcher",
                "  executor = fork-join-executor",
                "  fork-join-executor { parallelism-min = " + parallelism + ", parallelism-max = " + parallelism
                        + ", parallelism-factor = 1.0 }",
                "  throughput = " + e.mailboxThroughput(),
                "}")).withFallback(SHUTDOWN);
    }

    /**
     * The deterministic simulation dispatcher: the run's seeded executor, the same mailbox
     * throughput (part of the replay key), no throughput deadline (it would read the wall clock).
     */
    static Config deterministicDispatcher(String key, Settings settings) {
        return ConfigFactory.parseString(String.join("\n",
                Machine.DISPATCHER + " {",
                "  type = Dispatcher",
                "  executor = \"" + SeededExecutorConfigurator.class.getName() + "\"",
                "  " + SeededExecutorConfigurator.KEY + " = \"" + key + "\"",
                "  throughput = " + settings.engine().mailboxThroughput(),
                "  throughput-deadline-time = 0ms",
                "}")).withFallback(SHUTDOWN);
    }

    private static final Config SHUTDOWN = ConfigFactory.parseString(String.join("\n",
            "pekko.jvm-shutdown-hooks = off",
            "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
            "pekko.coordinated-shutdown.exit-jvm = off"));
}
