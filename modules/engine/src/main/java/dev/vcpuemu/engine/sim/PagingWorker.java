package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.det.Draw;
import dev.vcpuemu.engine.det.Draws;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.Map;

/**
 * One host paging worker ({@code async_pf_execute}, reference §1.6): each {@link Start} is one
 * swap-in whose latency is drawn from {@code host.swap-in-latency}. The worker answers at once
 * with {@link VcpuActor.WorkDone} carrying the virtual time the swap-in completes, so the
 * completion reaches its vCPU before it falls due and lands at exactly that boundary, whatever
 * the threads did (DESIGN §3: the lookahead of a swap-in is its latency, at least a quantum).
 * The vCPU makes the frame resident when the completion falls due. Workers form a pool, so no
 * single actor carries every vCPU's work; the time-keeper does not tick them.
 *
 * <p>The latency is drawn from a source seeded by the work item itself (the run seed, guest,
 * vCPU, token and issue time), not by the worker: which worker takes an item, and in which
 * order the items of several vCPUs reach it, changes nothing a vCPU sees. The latency is a choice
 * point ({@link Draw.Site#SWAP_IN}) named by the item too.
 */
public final class PagingWorker extends AbstractBehavior<PagingWorker.Command> {

    public sealed interface Command permits Start, Freeze {}

    public record Start(WorkItem item, ActorRef<VcpuActor.Command> replyTo) implements Command {}

    public record Freeze(ActorRef<StatsCollector.Command> replyTo) implements Command {}

    /** @param events told each swap-in's start and completion (a timeline track), or null */
    public static Behavior<Command> create(String name, int guest, Settings settings, LatencySink latencies,
                                           EventSink events, Draws draws) {
        return Behaviors.setup(ctx -> new PagingWorker(ctx, name, guest, settings, latencies, events, draws));
    }

    private final String name;
    private final int guest;
    private final long runSeed;
    private final Settings.Latency latency;
    private final LatencySink latencies;
    private final EventSink events;
    private final Draws draws;
    private long workReceived;
    private long sent;
    private long received;

    private PagingWorker(ActorContext<Command> ctx, String name, int guest, Settings settings, LatencySink latencies,
                         EventSink events, Draws draws) {
        super(ctx);
        this.name = name;
        this.guest = guest;
        this.runSeed = settings.run().seed();
        this.latency = settings.host().swapIn();
        this.latencies = latencies;
        this.events = events;
        this.draws = draws;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Start.class, this::onStart)
                .onMessage(Freeze.class, this::onFreeze)
                .build();
    }

    private Behavior<Command> onStart(Start s) {
        received++;
        workReceived++;
        WorkItem item = s.item();
        long serviceTime = draws.draw(Draw.swapIn(guest, item.vcpu(), item.token(), item.issuedAtNanos()),
                latency.lowest(), latency.highest(),
                latency.draw(Seeds.forWork(runSeed, guest, item.vcpu(), item.token(), item.issuedAtNanos())));
        latencies.record(LatencyKind.SWAP_IN, serviceTime);
        long due = item.issuedAtNanos() + serviceTime;
        if (events != null) {
            events.event(item.vcpu(), item.issuedAtNanos(), TraceEvent.SWAP_IN_START, item.token() & 0xFFFFFFFFL);
            events.event(item.vcpu(), due, TraceEvent.SWAP_IN_DONE, item.token() & 0xFFFFFFFFL);
        }
        s.replyTo().tell(new VcpuActor.WorkDone(item, due));
        sent++;
        return this;
    }

    private Behavior<Command> onFreeze(Freeze f) {
        f.replyTo().tell(new StatsCollector.Frozen(name, null, sent, received, Map.of(
                "workReceived", workReceived,
                "workAnswered", workReceived,
                "workPending", 0L), null));
        return this;
    }
}
