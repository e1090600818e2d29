package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.HostMemory;
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

import java.util.Comparator;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * One host paging worker ({@code async_pf_execute}, reference §1.6): each {@link Start} brings
 * one frame in after a latency drawn from {@code host.swap-in-latency}; at the quantum in which
 * that falls due it makes the frame resident and answers the vCPU with
 * {@link VcpuActor.WorkDone}. Workers form a pool, so no single actor carries every vCPU's work.
 */
public final class PagingWorker extends AbstractBehavior<PagingWorker.Command> {

    public sealed interface Command permits Start, Tick, Freeze {}

    public record Start(WorkItem item, ActorRef<VcpuActor.Command> replyTo) implements Command {}

    public record Tick(long endNanos) implements Command {}

    public record Freeze(ActorRef<StatsCollector.Command> replyTo) implements Command {}

    private record Job(long due, long seq, WorkItem item, ActorRef<VcpuActor.Command> replyTo) {}

    /** @param events told each swap-in's start and completion (a timeline track), or null */
    public static Behavior<Command> create(String name, Settings settings, HostMemory memory,
                                           ActorRef<TimeKeeper.Command> timeKeeper, LatencySink latencies,
                                           EventSink events) {
        return Behaviors.setup(ctx -> new PagingWorker(ctx, name, settings, memory, timeKeeper, latencies, events));
    }

    private final String name;
    private final Settings.Latency latency;
    private final HostMemory memory;
    private final ActorRef<TimeKeeper.Command> timeKeeper;
    private final SplittableRandom rng;
    private final LatencySink latencies;
    private final EventSink events;
    private final PriorityQueue<Job> jobs =
            new PriorityQueue<>(Comparator.comparingLong(Job::due).thenComparingLong(Job::seq));
    private long seq;
    private long workReceived;
    private long workAnswered;
    private long sent;
    private long received;

    private PagingWorker(ActorContext<Command> ctx, String name, Settings settings, HostMemory memory,
                         ActorRef<TimeKeeper.Command> timeKeeper, LatencySink latencies, EventSink events) {
        super(ctx);
        this.latencies = latencies;
        this.events = events;
        this.name = name;
        this.latency = settings.host().swapIn();
        this.memory = memory;
        this.timeKeeper = timeKeeper;
        this.rng = Seeds.forActor(settings.run().seed(), name);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Start.class, this::onStart)
                .onMessage(Tick.class, this::onTick)
                .onMessage(Freeze.class, this::onFreeze)
                .build();
    }

    private Behavior<Command> onStart(Start s) {
        received++;
        workReceived++;
        long serviceTime = latency.draw(rng);
        latencies.record(LatencyKind.SWAP_IN, serviceTime);
        jobs.add(new Job(s.item().issuedAtNanos() + serviceTime, seq++, s.item(), s.replyTo()));
        if (events != null) {
            events.event(s.item().vcpu(), s.item().issuedAtNanos(), TraceEvent.SWAP_IN_START, s.item().token() & 0xFFFFFFFFL);
        }
        return this;
    }

    private Behavior<Command> onTick(Tick t) {
        received++;
        boolean answered = false;
        while (!jobs.isEmpty() && jobs.peek().due() < t.endNanos()) {
            answered = true;
            Job j = jobs.poll();
            memory.makeResident(j.item().gfn());
            if (events != null) {
                events.event(j.item().vcpu(), j.due(), TraceEvent.SWAP_IN_DONE, j.item().token() & 0xFFFFFFFFL);
            }
            j.replyTo().tell(new VcpuActor.WorkDone(j.item(), j.due()));
            workAnswered++;
            sent++;
        }
        sent++;
        long nextDue = answered ? t.endNanos() : jobs.isEmpty() ? Long.MAX_VALUE : jobs.peek().due();
        timeKeeper.tell(TimeKeeper.Done.of(nextDue, !answered && jobs.isEmpty()));
        return this;
    }

    private Behavior<Command> onFreeze(Freeze f) {
        f.replyTo().tell(new StatsCollector.Frozen(name, null, sent, received, Map.of(
                "workReceived", workReceived,
                "workAnswered", workAnswered,
                "workPending", (long) jobs.size()), null));
        return this;
    }
}
