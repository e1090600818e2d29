package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.HostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.stats.TimingSink;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.vcpu.Vcpu;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.List;
import java.util.Map;

/**
 * A vCPU: the guest CPU, its kernel and KVM's host half, as one actor because in KVM the host
 * half runs on the vCPU's own thread (DESIGN §1.3). A thin shell around the pure {@link Vcpu}.
 *
 * <p>Protocol. A {@link Tick} opens a quantum up to a virtual end time; the vCPU runs its
 * micro-ops in slices of {@code micro-ops-per-step} boundaries, each slice one {@link Step}
 * message to itself. Host-side inputs (NMIs, completions, evictions) arrive before they fall
 * due, each with its due time, and land at exactly that boundary; IPIs ({@link RemoteWake}) and
 * page-ready from another vCPU land between slices in real mailbox order (DESIGN §3). When its
 * clock reaches the end (or the guest died) it reports {@link TimeKeeper.Done}, but not before
 * every work item it sent has been answered: so no completion can reach it after it has passed
 * the completion's due time, and nothing is in flight when the run ends.
 */
public final class VcpuActor extends AbstractBehavior<VcpuActor.Command> {

    public sealed interface Command permits Wire, Tick, Step, Nmi, WorkDone, Evictions, PageReadyFromVcpu, RemoteWake,
            Quiesced, Freeze {}

    /** The other vCPUs, indexed by vCPU id; sent once before the first quantum. */
    public record Wire(List<ActorRef<Command>> peers) implements Command {}

    public record Tick(long endNanos, boolean wantStats) implements Command {}

    public enum Step implements Command { INSTANCE }

    /** An NMI asserted at virtual time {@code dueNanos}. */
    public record Nmi(long dueNanos, double userReadProbability) implements Command {}

    /** A paging worker's answer to a work item: its page is in at virtual time {@code dueNanos}. */
    public record WorkDone(WorkItem item, long dueNanos) implements Command {}

    /** The reclaimer's churn: one eviction at each of these virtual times (ascending). */
    public record Evictions(long[] dueNanos) implements Command {}

    /**
     * host.bugs.page-ready-to-other-vcpu: another vCPU's host dequeued the page-ready of
     * {@code item} (its token) at virtual time {@code dueNanos} for this vCPU to deliver.
     */
    public record PageReadyFromVcpu(WorkItem item, long dueNanos) implements Command {}

    /** A reschedule IPI for one of this vCPU's tasks (-1: a halted waiter), sent at the sender's virtual time. */
    public record RemoteWake(int task, long sentAtNanos) implements Command {}

    /**
     * The whole machine is quiescent (no participant has anything due, ever): report the tasks
     * left asleep as lost wakeups (DESIGN §1.6, reference §4(v)).
     */
    public enum Quiesced implements Command { INSTANCE }

    public record Freeze(ActorRef<StatsCollector.Command> replyTo) implements Command {}

    /**
     * @param name the actor's stable name, from which its random source is derived
     * @param guest the guest this vCPU belongs to; {@code id} is its vCPU id within that guest
     */
    public static Behavior<Command> create(String name, int guest, int id, Settings settings, HostMemory memory,
                                           SleeperTable sleepers, List<ActorRef<PagingWorker.Command>> workers,
                                           ActorRef<TimeKeeper.Command> timeKeeper,
                                           ActorRef<StatsCollector.Command> collector, EventSink events,
                                           LatencySink latencies, TimingSink timing) {
        return Behaviors.setup(ctx -> new VcpuActor(ctx, name, guest, id, settings, memory, sleepers, workers,
                timeKeeper, collector, events, latencies, timing));
    }

    private final String name;
    private final int guest;
    private final Vcpu vcpu;
    private final ActorRef<Command> self;
    private final List<ActorRef<PagingWorker.Command>> workers;
    private final ActorRef<TimeKeeper.Command> timeKeeper;
    private final ActorRef<StatsCollector.Command> collector;
    private final int stepBudget;
    private List<ActorRef<Command>> peers = List.of();
    private long quantumEnd;
    private boolean wantStats;
    /** A message went to another vCPU this quantum: the next quantum must not be skipped. */
    private boolean sentToPeers;
    /** Work items sent whose answer has not arrived: the quantum's Done waits for them. */
    private int unanswered;
    /** The quantum's end is reached and its Done waits for {@link #unanswered} answers. */
    private boolean doneDeferred;
    private long sent;
    private long received;

    private VcpuActor(ActorContext<Command> ctx, String name, int guest, int id, Settings settings, HostMemory memory,
                      SleeperTable sleepers, List<ActorRef<PagingWorker.Command>> workers,
                      ActorRef<TimeKeeper.Command> timeKeeper, ActorRef<StatsCollector.Command> collector,
                      EventSink events, LatencySink latencies, TimingSink timing) {
        super(ctx);
        this.name = name;
        this.guest = guest;
        this.self = ctx.getSelf();
        this.workers = workers;
        this.timeKeeper = timeKeeper;
        this.collector = collector;
        this.stepBudget = settings.engine().microOpsPerStep();
        this.vcpu = new Vcpu(id, settings, Seeds.forActor(settings.run().seed(), name),
                Seeds.forActor(settings.run().seed(), name + "/host"), memory, sleepers, new Outbox(), 0);
        vcpu.latencySink(latencies);
        vcpu.timingSink(timing);
        if (events != null) {
            vcpu.eventSink(events);
        }
    }

    @Override
    public Receive<Command> createReceive() {
        // Step first: the receive block tries its cases in order, and nearly every message is a Step.
        return newReceiveBuilder()
                .onMessageEquals(Step.INSTANCE, this::onStep)
                .onMessage(Wire.class, this::onWire)
                .onMessage(Tick.class, this::onTick)
                .onMessage(Nmi.class, this::onNmi)
                .onMessage(WorkDone.class, this::onWorkDone)
                .onMessage(Evictions.class, this::onEvictions)
                .onMessage(PageReadyFromVcpu.class, this::onPageReadyFromVcpu)
                .onMessage(RemoteWake.class, this::onRemoteWake)
                .onMessageEquals(Quiesced.INSTANCE, this::onQuiesced)
                .onMessage(Freeze.class, this::onFreeze)
                .build();
    }

    private Behavior<Command> onWire(Wire w) {
        received++;
        peers = w.peers();
        return this;
    }

    private Behavior<Command> onTick(Tick t) {
        received++;
        quantumEnd = t.endNanos();
        wantStats = t.wantStats();
        sentToPeers = false;
        return runSlice();
    }

    private Behavior<Command> onStep() {
        received++;
        return runSlice();
    }

    private Behavior<Command> runSlice() {
        try {
            vcpu.run(quantumEnd, stepBudget);
        } catch (RuntimeException e) {
            throw new VcpuFault(e, vcpu.lastEvents());
        }
        if (vcpu.dead() || vcpu.nowNanos() >= quantumEnd) {
            if (unanswered > 0) {
                doneDeferred = true;
            } else {
                reportDone();
            }
        } else {
            sent++;
            self.tell(Step.INSTANCE);
        }
        return this;
    }

    private void reportDone() {
        doneDeferred = false;
        // IPIs and page-readies sent to peers this quantum may reach them after they answered
        // their tick: nothing may be skipped until the next quantum has run.
        long nextDue = sentToPeers ? quantumEnd : vcpu.nextDueNanos();
        sent++;
        timeKeeper.tell(new TimeKeeper.Done(wantStats ? statsCopy() : null, vcpu.deathReason(), nextDue,
                !sentToPeers && vcpu.quiescent()));
    }

    private Counters statsCopy() {
        Counters c = vcpu.counters().copy();
        c.add(Counter.MESSAGES, received);
        return c;
    }

    private Behavior<Command> onNmi(Nmi n) {
        received++;
        vcpu.onNmi(n.dueNanos(), n.userReadProbability());
        return this;
    }

    private Behavior<Command> onWorkDone(WorkDone w) {
        received++;
        unanswered--;
        vcpu.onWorkDone(w.item(), w.dueNanos());
        if (doneDeferred && unanswered == 0) {
            reportDone();
        }
        return this;
    }

    private Behavior<Command> onEvictions(Evictions e) {
        received++;
        vcpu.onEvictions(e.dueNanos());
        return this;
    }

    private Behavior<Command> onPageReadyFromVcpu(PageReadyFromVcpu p) {
        received++;
        vcpu.onPageReadyFromVcpu(p.item(), p.dueNanos());
        return this;
    }

    private Behavior<Command> onRemoteWake(RemoteWake r) {
        received++;
        try {
            vcpu.onRemoteWake(r.task(), r.sentAtNanos());
        } catch (RuntimeException e) {
            throw new VcpuFault(e, vcpu.lastEvents());
        }
        return this;
    }

    private Behavior<Command> onQuiesced() {
        try {
            vcpu.reportLostWakeups();
        } catch (RuntimeException e) {
            throw new VcpuFault(e, vcpu.lastEvents());
        }
        return this;
    }

    private Behavior<Command> onFreeze(Freeze f) {
        var host = vcpu.host();
        f.replyTo().tell(new StatsCollector.Frozen(name, statsCopy(), sent, received, Map.of(
                "tokensOutstanding", host.outstandingTokens() + vcpu.queuedForeignPageReadies(),
                "tokensFlushed", host.flushed(),
                "completionsQueued", (long) vcpu.queuedCompletions()),
                new RunResult.VcpuTimes(guest, vcpu.id(), vcpu.timeUse())));
        return this;
    }

    /** Routes a work item to a worker by a mix of its token: spreads one vCPU's items over the pool. */
    static int route(int token, int workers) {
        return Integer.remainderUnsigned(token * 0x9E3779B9, workers);
    }

    private final class Outbox implements Vcpu.Outbox {
        @Override
        public void startWork(WorkItem item) {
            sent++;
            unanswered++;
            workers.get(route(item.token(), workers.size())).tell(new PagingWorker.Start(item, self));
        }

        @Override
        public void remoteWake(int cpu, int task) {
            sent++;
            sentToPeers = true;
            peers.get(cpu).tell(new RemoteWake(task, vcpu.nowNanos()));
        }

        @Override
        public void pageReadyElsewhere(int cpu, WorkItem item) {
            sent++;
            sentToPeers = true;
            peers.get(cpu).tell(new PageReadyFromVcpu(item, vcpu.nowNanos()));
        }

        @Override
        public void finding(Finding finding) {
            sent++;
            collector.tell(new StatsCollector.FindingReported(finding.inGuest(guest)));
        }
    }
}
