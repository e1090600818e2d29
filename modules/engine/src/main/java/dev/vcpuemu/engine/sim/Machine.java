package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.det.Draws;
import dev.vcpuemu.engine.det.Trace;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.timeline.TrackSinks;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.memory.HostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.vcpu.Vcpu;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import static dev.vcpuemu.engine.det.TracingInterceptor.traced;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * The machine guardian: runs on the simulation dispatcher and builds the topology from the
 * settings (per guest: vCPUs, the paging worker pool, the reclaimer, NMI sources; once: the
 * time-keeper and the stats collector), all on the same dispatcher, then starts the first quantum. Everything the
 * simulation needs is sent from here, never from {@code main} (DESIGN §3).
 *
 * <p>With a {@link Trace} (deterministic engine) every actor's messages are traced under a
 * stable number given here in spawn order, and the vCPU models report their events to it. With
 * {@link TrackSinks} (a timeline for {@code --trace}, either engine) each vCPU and paging worker
 * also records its events into its own track. The timing draws go through {@link Draws}: the
 * deterministic engine's strategy, or the actors' own generators.
 *
 * <p>It watches every actor it spawns. An exception escaping one is an emulator fault (DESIGN
 * §1.6): Pekko stops that actor, the machine gets {@link ChildFailed} and ends the run at once
 * with the fault (its stack, and a vCPU's last events), never silently: the time-keeper would
 * otherwise wait forever for the failed actor's report. Then it stops, and every actor with it.
 * No per-message cost is paid for this.
 */
public final class Machine {
    /** Config path of the simulation dispatcher, written by {@code Simulation} from the settings. */
    public static final String DISPATCHER = "vcpu-emu-engine.sim-dispatcher";
    /** Config path of the counting mailbox, written by {@code Simulation} when the run counts its backlog. */
    public static final String MAILBOX = "vcpu-emu-engine.sim-mailbox";

    private Machine() {
    }

    public static Behavior<Void> create(Settings settings, RunControl control, CompletableFuture<RunResult> result,
                                        Consumer<Progress> progress, Trace trace, TrackSinks timeline,
                                        Draws draws) {
        return create(settings, control, result, progress, trace, timeline, draws, g -> true, null);
    }

    /**
     * A part of the machine: only the guests {@code guests} accepts, with a time-keeper that answers
     * to {@code gate} (a node of a run over several JVMs). Guests share nothing but virtual time, and
     * each guest's actors have the names (so the random sources) they have in the whole machine.
     *
     * @param gate where the rounds are decided (see {@link TimeKeeper.Gate}), or null: here
     */
    public static Behavior<Void> create(Settings settings, RunControl control, CompletableFuture<RunResult> result,
                                        Consumer<Progress> progress, Trace trace, TrackSinks timeline,
                                        Draws draws, IntPredicate guests, TimeKeeper.Gate gate) {
        return Behaviors.setup(ctx -> {
            int[] actor = {0};
            Props sim = control.countsMailboxBacklog()
                    ? DispatcherSelector.fromConfig(DISPATCHER).withMailboxFromConfig(MAILBOX)
                    : DispatcherSelector.fromConfig(DISPATCHER);
            // With a trace this is the deterministic engine: every actor runs on its one thread.
            LatencyRecorders latencies = trace != null ? LatencyRecorders.oneThread() : LatencyRecorders.perThread();
            InputTimings timings = new InputTimings();
            // The dead-letter listener is the machine's child, not the collector's: a collector that
            // fails stops at once, without waiting for a child on another dispatcher, whose message
            // one saturated thread of the simulation dispatcher would never take (a ForkJoinPool
            // worker runs the tasks it forked itself before any submitted from outside).
            LongAdder deadLetters = new LongAdder();
            ctx.spawn(StatsCollector.countingDeadLetters(deadLetters, ctx.getSelf().path().toStringWithoutAddress() + "/"),
                    "dead-letters", DispatcherSelector.defaultDispatcher());
            ActorRef<StatsCollector.Command> collector = ctx.spawn(traced(StatsCollector.Command.class, trace,
                    actor[0]++, StatsCollector.create(result, progress, control, latencies, timings, deadLetters)),
                    "stats", sim);
            ActorRef<TimeKeeper.Command> timeKeeper =
                    ctx.spawn(traced(TimeKeeper.Command.class, trace, actor[0]++,
                            TimeKeeper.create(settings.engine().quantumNanos(), control, collector, gate)), "time-keeper", sim);

            List<ActorRef<VcpuActor.Command>> vcpus = new ArrayList<>();
            List<ActorRef<PagingWorker.Command>> workers = new ArrayList<>();
            List<ActorRef<Reclaimer.Command>> reclaimers = new ArrayList<>();
            List<ActorRef<NmiSource.Command>> nmiSources = new ArrayList<>();
            for (int g = 0; g < settings.topology().guests(); g++) {
                if (!guests.test(g)) {
                    continue;
                }
                // Guest 0's actors keep the names (and so the random sources) of a one-guest host.
                String prefix = g == 0 ? "" : "g" + g + "-";
                HostMemory memory = new AtomicHostMemory(settings.topology().vcpus() * Vcpu.framesPerVcpu(settings));
                SleeperTable sleepers = new SleeperTable();
                List<ActorRef<PagingWorker.Command>> pool = new ArrayList<>();
                for (int i = 0; i < settings.host().pagingWorkers(); i++) {
                    String name = prefix + "paging-worker-" + i;
                    pool.add(ctx.spawn(traced(PagingWorker.Command.class, trace, actor[0]++,
                            PagingWorker.create(name, g, settings, latencies,
                                    timeline == null ? null : timeline.worker(g, i), draws)), name, sim));
                }
                List<ActorRef<VcpuActor.Command>> peers = new ArrayList<>();
                for (int i = 0; i < settings.topology().vcpus(); i++) {
                    String name = prefix + "vcpu-" + i;
                    peers.add(ctx.spawn(traced(VcpuActor.Command.class, trace, actor[0]++, VcpuActor.create(name, g, i,
                            settings, memory, sleepers, List.copyOf(pool), timeKeeper, collector,
                            vcpuEvents(trace, timeline, g, i, g * settings.topology().vcpus() + i), latencies,
                            timings)),
                            name, sim));
                }
                List<ActorRef<VcpuActor.Command>> wired = List.copyOf(peers);
                wired.forEach(v -> v.tell(new VcpuActor.Wire(wired)));

                String reclaimer = prefix + "reclaimer";
                reclaimers.add(ctx.spawn(traced(Reclaimer.Command.class, trace, actor[0]++,
                        Reclaimer.create(reclaimer, g, settings, wired, timeKeeper, draws)), reclaimer, sim));
                for (int s = 0; s < settings.nmi().sources().size(); s++) {
                    Settings.NmiSource source = settings.nmi().sources().get(s);
                    List<ActorRef<VcpuActor.Command>> targets = source.targets().isEmpty() ? wired
                            : source.targets().stream().map(wired::get).toList();
                    String name = prefix + "nmi-" + source.name();
                    nmiSources.add(ctx.spawn(traced(NmiSource.Command.class, trace, actor[0]++,
                            NmiSource.create(name, g, s, source, settings.run().seed(), targets, timeKeeper, draws)),
                            name, sim));
                }
                vcpus.addAll(wired);
                workers.addAll(pool);
            }
            // Wire messages, this one and Start.
            int setupMessages = vcpus.size() + 2;
            timeKeeper.tell(new TimeKeeper.Participants(List.copyOf(vcpus), List.copyOf(workers),
                    List.copyOf(reclaimers), List.copyOf(nmiSources), setupMessages));
            timeKeeper.tell(TimeKeeper.Start.INSTANCE);
            ctx.getChildren().forEach(ctx::watch);
            return Behaviors.receive(Void.class)
                    .onSignal(ChildFailed.class, failed -> {
                        result.complete(RunResult.faulted(fault(failed), control.elapsedNanos() / 1e9));
                        // Stop every actor now: a simulation left running after its fault would keep
                        // a saturated thread from ever taking the actor system's own termination.
                        return Behaviors.stopped();
                    })
                    .onSignal(Terminated.class, stopped -> Behaviors.same())
                    .build();
        });
    }

    /**
     * Where vCPU {@code i} of guest {@code g} reports its events: the deterministic trace hash (as
     * the host's vCPU {@code number}), the timeline, both, or nowhere.
     */
    private static EventSink vcpuEvents(Trace trace, TrackSinks timeline, int g, int i, int number) {
        EventSink track = timeline == null ? null : timeline.vcpu(g, i);
        if (trace == null) {
            return track;
        }
        return new EventSink() {
            @Override
            public void event(int v, long at, TraceEvent what, long arg) {
                trace.event(number, at, what, arg);
                if (track != null) {
                    track.event(v, at, what, arg);
                }
            }

            @Override
            public void finding(int v, long at, FindingKind kind) {
                trace.finding(number, at, kind);
                if (track != null) {
                    track.finding(v, at, kind);
                }
            }
        };
    }

    private static RunResult.Fault fault(ChildFailed failed) {
        Throwable cause = failed.getCause();
        List<String> events = List.of();
        if (cause instanceof VcpuFault v) {
            events = v.lastEvents();
            cause = v.getCause();
        }
        List<String> stack = new ArrayList<>();
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t != cause) {
                stack.add("Caused by: " + t);
            }
            for (StackTraceElement e : t.getStackTrace()) {
                stack.add("at " + e);
            }
        }
        return new RunResult.Fault(failed.getRef().path().name(), String.valueOf(cause), stack, events);
    }
}
