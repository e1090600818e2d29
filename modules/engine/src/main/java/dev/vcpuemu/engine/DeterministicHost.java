package dev.vcpuemu.engine;

import com.typesafe.config.Config;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.SeededExecutor;
import dev.vcpuemu.engine.det.SeededExecutorConfigurator;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.det.Trace;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.CountingMailbox;
import dev.vcpuemu.engine.sim.Machine;
import dev.vcpuemu.engine.timeline.TrackSinks;
import dev.vcpuemu.model.settings.Settings;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The deterministic engine's home: one actor system with one {@link SeededExecutor} behind its
 * simulation dispatcher, in which deterministic runs are made one after the other, each as a
 * fresh machine tree (the same actors as any run), stopped before the next starts. Starting and
 * stopping an actor system costs tens of milliseconds, a short run a few: explore keeps one host
 * per worker thread, a single run uses a host once.
 *
 * <p>Why a run here is the run alone: the topology is built from a message to the guardian, so
 * its first task reaches the executor through the inbox exactly as when the system starts; the
 * executor is reset (strategy, recording, step count) only once every task of the previous tree
 * has run and its machine has terminated; actor names and trace numbers are those of a fresh
 * tree, and the random sources come from names and the seed, never from identities. Dead
 * letters are counted per machine (see StatsCollector). A test compares the hashes. One run at
 * a time: a host belongs to one thread.
 */
public final class DeterministicHost implements AutoCloseable {
    private static final AtomicLong HOSTS = new AtomicLong();
    /** How long a finished run's tree may take to stop. */
    private static final long STOP_SECONDS = 10;

    private final String key;
    private final SeededExecutor executor;
    private final ActorSystem<Command> system;
    private final int mailboxThroughput;
    private final LongAdder backlog;

    /**
     * A host for runs with {@code settings}' engine settings (the mailbox throughput is part of
     * the dispatcher) and {@code config}'s Pekko settings; with {@code countBacklog} its mailboxes
     * count their backlog (a soak's gauge).
     */
    public DeterministicHost(Settings settings, Config config, boolean countBacklog) {
        key = "host-" + HOSTS.incrementAndGet();
        executor = new SeededExecutor("vcpu-emu-deterministic-" + key, null, null);
        mailboxThroughput = settings.engine().mailboxThroughput();
        Config dispatcher = Simulation.deterministicDispatcher(key, settings);
        backlog = countBacklog ? CountingMailbox.register(key) : null;
        if (countBacklog) {
            dispatcher = Simulation.countingMailbox(key).withFallback(dispatcher);
        }
        SeededExecutorConfigurator.register(key, executor);
        system = ActorSystem.create(guardian(), "vcpu-emu", dispatcher.withFallback(config));
    }

    /**
     * One deterministic run: {@code control} must bound it in virtual time (or steps). The result
     * carries the trace hash, the model hash and the number of scheduling steps.
     *
     * @param progress where each progress sample goes, or null for none (a cheaper run, the same result)
     * @param record every scheduling choice up to the result is appended here, or null
     * @param timeline where the vCPUs and workers record their last events (a trace file), or null
     */
    public RunResult run(Settings settings, RunControl control, Consumer<Progress> progress, Strategy strategy,
                         Schedule record, TrackSinks timeline) throws InterruptedException {
        if (settings.engine().mailboxThroughput() != mailboxThroughput) {
            throw new IllegalArgumentException("this host runs mailbox throughput " + mailboxThroughput
                    + ", not " + settings.engine().mailboxThroughput());
        }
        if (control.countsMailboxBacklog()) {
            if (backlog == null) {
                throw new IllegalArgumentException("this host's mailboxes do not count their backlog");
            }
            control.backlogGauge(backlog::sum);
        }
        executor.awaitIdle();
        executor.reset(strategy, record);
        control.countSteps(executor::steps);
        Trace trace = new Trace();
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        // Runs on the executor's thread the moment the collector completes the result: the hash
        // and the step count are those of the run, not of the stopping that follows.
        CompletableFuture<RunResult> traced = result.thenApply(r -> {
            executor.endRun();
            return r.withTrace(trace.hex(), trace.modelHex(), executor.steps());
        });
        system.tell(new Launch(Machine.create(settings, control, result, progress, trace, timeline, executor)));
        try {
            return traced.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("simulation failed", e.getCause());
        } finally {
            CompletableFuture<Void> stopped = new CompletableFuture<>();
            system.tell(new StopMachine(stopped));
            try {
                stopped.get(STOP_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("a finished run's actors did not stop within " + STOP_SECONDS + " s", e);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Every result is already in hand; a slow shutdown does not change it.
        } finally {
            executor.shutdown();
            SeededExecutorConfigurator.unregister(key);
            if (backlog != null) {
                CountingMailbox.unregister(key);
            }
        }
    }

    // ------------------------------------------------------------------ the guardian

    sealed interface Command {}

    /** Spawns the next run's machine on the simulation dispatcher. */
    private record Launch(Behavior<Void> machine) implements Command {}

    /** Stops the current machine; {@code stopped} completes once it and its tree have terminated. */
    private record StopMachine(CompletableFuture<Void> stopped) implements Command {}

    private static Behavior<Command> guardian() {
        return Behaviors.setup(ctx -> idle(ctx));
    }

    private static Behavior<Command> idle(ActorContext<Command> ctx) {
        return Behaviors.receive(Command.class)
                .onMessage(Launch.class, launch -> {
                    // Not watched yet: a Watch sent now from this thread would wake the machine's
                    // mailbox at a wall-clock moment, an extra scheduling step in some runs only.
                    ActorRef<Void> machine = ctx.spawn(launch.machine(), "machine",
                            DispatcherSelector.fromConfig(Machine.DISPATCHER));
                    return running(ctx, machine);
                })
                .build();
    }

    private static Behavior<Command> running(ActorContext<Command> ctx, ActorRef<Void> machine) {
        return Behaviors.receive(Command.class)
                .onMessage(StopMachine.class, stop -> {
                    ctx.watch(machine);
                    ctx.stop(machine);
                    return stopping(ctx, stop.stopped());
                })
                .build();
    }

    private static Behavior<Command> stopping(ActorContext<Command> ctx, CompletableFuture<Void> stopped) {
        return Behaviors.receive(Command.class)
                .onSignal(Terminated.class, t -> {
                    stopped.complete(null);
                    return idle(ctx);
                })
                .build();
    }
}
