package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.det.Trace;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.memory.HostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.vcpu.Vcpu;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import static dev.vcpuemu.engine.det.TracingInterceptor.traced;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The machine guardian: runs on the simulation dispatcher and builds the topology from the
 * settings (vCPUs, the paging worker pool, the reclaimer, NMI sources, the time-keeper and the
 * stats collector), all on the same dispatcher, then starts the first quantum. Everything the
 * simulation needs is sent from here, never from {@code main} (DESIGN §3).
 *
 * <p>With a {@link Trace} (deterministic engine) every actor's messages are traced under a
 * stable number given here in spawn order, and the vCPU models report their events to it.
 */
public final class Machine {
    /** Config path of the simulation dispatcher, written by {@code Simulation} from the settings. */
    public static final String DISPATCHER = "vcpu-emu-engine.sim-dispatcher";

    private Machine() {
    }

    public static Behavior<Void> create(Settings settings, RunControl control, CompletableFuture<RunResult> result,
                                        Consumer<Progress> progress, Trace trace) {
        return Behaviors.setup(ctx -> {
            int[] actor = {0};
            DispatcherSelector sim = DispatcherSelector.fromConfig(DISPATCHER);
            HostMemory memory = new AtomicHostMemory(settings.topology().vcpus() * Vcpu.framesPerVcpu(settings));
            SleeperTable sleepers = new SleeperTable();

            ActorRef<StatsCollector.Command> collector = ctx.spawn(
                    traced(StatsCollector.Command.class, trace, actor[0]++, StatsCollector.create(result, progress, control)),
                    "stats", sim);
            ActorRef<TimeKeeper.Command> timeKeeper =
                    ctx.spawn(traced(TimeKeeper.Command.class, trace, actor[0]++,
                            TimeKeeper.create(settings.engine().quantumNanos(), control, collector)), "time-keeper", sim);

            List<ActorRef<PagingWorker.Command>> workers = new ArrayList<>();
            for (int i = 0; i < settings.host().pagingWorkers(); i++) {
                String name = "paging-worker-" + i;
                workers.add(ctx.spawn(traced(PagingWorker.Command.class, trace, actor[0]++,
                        PagingWorker.create(name, settings, memory, timeKeeper)), name, sim));
            }
            List<ActorRef<VcpuActor.Command>> vcpus = new ArrayList<>();
            for (int i = 0; i < settings.topology().vcpus(); i++) {
                vcpus.add(ctx.spawn(traced(VcpuActor.Command.class, trace, actor[0]++, VcpuActor.create(i, settings,
                        memory, sleepers, List.copyOf(workers), timeKeeper, collector, trace)), "vcpu-" + i, sim));
            }
            List<ActorRef<VcpuActor.Command>> peers = List.copyOf(vcpus);
            peers.forEach(v -> v.tell(new VcpuActor.Wire(peers)));

            ActorRef<Reclaimer.Command> reclaimer = ctx.spawn(traced(Reclaimer.Command.class, trace, actor[0]++,
                    Reclaimer.create(settings, memory, timeKeeper)), "reclaimer", sim);
            List<ActorRef<NmiSource.Command>> nmiSources = new ArrayList<>();
            for (Settings.NmiSource source : settings.nmi().sources()) {
                List<ActorRef<VcpuActor.Command>> targets = source.targets().isEmpty() ? peers
                        : source.targets().stream().map(peers::get).toList();
                nmiSources.add(ctx.spawn(traced(NmiSource.Command.class, trace, actor[0]++,
                        NmiSource.create(source, settings.run().seed(), targets, timeKeeper)), "nmi-" + source.name(), sim));
            }
            // Wire messages, this one and Start.
            int setupMessages = peers.size() + 2;
            timeKeeper.tell(new TimeKeeper.Participants(peers, List.copyOf(workers), reclaimer, List.copyOf(nmiSources),
                    setupMessages));
            timeKeeper.tell(TimeKeeper.Start.INSTANCE);
            return Behaviors.empty();
        });
    }
}
