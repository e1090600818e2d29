package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.Tally;
import dev.vcpuemu.model.finding.FindingKind;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.delivery.ConsumerController;
import org.apache.pekko.actor.typed.delivery.WorkPullingProducerController;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The coordinator of an explore farm (src/site/markdown/cluster.md): the search of {@code explore} handed out
 * over several JVMs. Nodes (this JVM's own among them) say {@link Hello}; one of the same build
 * gets the {@link Job}, one of another build is refused (its runs would not be this build's runs).
 * Runs go out as {@link Range}s of run indices through Pekko's work-pulling reliable delivery: a
 * worker thread pulls its next range when it is done with one, so the wire carries only what a
 * thread asked for (Artery drops what is not flow-controlled), and a range held by a node that
 * disappears goes to another. A range is sized to take about half a second at the speed seen so
 * far, so that a failure or the time limit stops every node soon.
 *
 * <p>The search ends, as on one JVM, when the runs are used up, the time limit passes or a run
 * fails: then every node is told {@link FarmNode.Stop} (launch no run from the failing one's index
 * on; none at all at the time limit), the ranges under way come back with what they ran, and the
 * failing run reported is the lowest failing run index, as on one JVM: which node was quickest
 * does not decide it. The coordinator downs a node that
 * becomes unreachable (nothing waits on it forever) and says so.
 */
public final class Farm extends AbstractBehavior<Farm.Command> {

    /** Where nodes find the coordinator. */
    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "vcpu-emu-farm");

    /** Where the worker threads' consumer controllers register for ranges. */
    public static final ServiceKey<ConsumerController.Command<Range>> RANGES =
            ServiceKey.create(ConsumerController.serviceKeyClass(), "vcpu-emu-ranges");

    /** How long a range should take, at the speed seen so far. */
    static final double RANGE_SECONDS = 0.5;
    static final long MAX_RANGE = 256;

    public sealed interface Command permits Hello, RangeDone, Next, Unreachable, Halt, Dismiss, StartAnyway {}

    /**
     * A node asks to work: its build, its address, PID and worker threads.
     *
     * @param version the node's {@code vcpu-emu --version} build (version, commit, changes)
     */
    public record Hello(String version, String node, long pid, int threads, ActorRef<FarmNode.Command> replyTo)
            implements Command, ClusterMessage {}

    /** Runs {@code from} to {@code from + count - 1} of the job. */
    public record Range(long from, long count) implements ClusterMessage {}

    /** The run of a farm that failed, as its node saw it; the coordinator re-runs it to report it. */
    public record FailedRun(long index, long seed, String traceHash, String endReason, String node)
            implements ClusterMessage {}

    /**
     * A range ran (all of it, or up to a stop or its first failing run).
     *
     * @param range   the range, or null for an error before any range (the job cannot be loaded)
     * @param ran     its finished runs
     * @param failure its failing run, or null
     * @param error   why the node could not run it (the emulator failed), or null
     */
    public record RangeDone(String node, Range range, Tally.Counts ran, double wallSeconds, FailedRun failure,
                            String error) implements Command, ClusterMessage {}

    private record Next(WorkPullingProducerController.RequestNext<Range> next) implements Command {}

    private record Unreachable(ClusterEvent.UnreachableMember event) implements Command {}

    /** Time is up (the search's wall-time limit), or the user stopped the search. */
    public enum Halt implements Command { INSTANCE }

    /** The nodes awaited did not all say hello in time: work with those that did. */
    private enum StartAnyway implements Command { INSTANCE }

    /** How long the coordinator waits for the nodes of {@code --local-cluster} before working without them. */
    static final Duration NODES_WAIT = Duration.ofSeconds(30);

    /** The search is over and reported: every node leaves the cluster, and its JVM exits. */
    public enum Dismiss implements Command { INSTANCE }

    /** A node that said hello: what the end-of-search table shows. */
    public record Node(String address, long pid, int threads, long runs) {}

    /**
     * How the search ended.
     *
     * @param failure the lowest-indexed failing run, or null
     * @param error   the first error a node reported (the emulator failed), or null
     */
    public record Outcome(long runs, double wallSeconds, FailedRun failure, String error, List<Node> nodes) {
        public double runsPerSecond() {
            return runs / Math.max(1e-9, wallSeconds);
        }
    }

    /** What the command's progress display reads while the search runs (any thread). */
    public static final class View {
        final Tally tally = new Tally();
        final AtomicInteger failing = new AtomicInteger();
        final AtomicInteger nodes = new AtomicInteger();
        final CompletableFuture<Outcome> outcome = new CompletableFuture<>();

        public long done() {
            return tally.runs();
        }

        public int failing() {
            return failing.get();
        }

        public int nodes() {
            return nodes.get();
        }

        public Map<FindingKind, Long> findings() {
            return tally.findings();
        }

        public Tally tally() {
            return tally;
        }

        public CompletableFuture<Outcome> outcome() {
            return outcome;
        }
    }

    /**
     * @param awaitNodes hand out no range before this many nodes said hello (or {@link #NODES_WAIT}
     *                   passed): {@code --local-cluster}'s JVMs start together, so runs/s add up
     */
    public static Behavior<Command> create(Job job, long runs, Duration timeLimit, int awaitNodes, String version,
                                           View view, Consumer<String> say) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new Farm(ctx, timers, job, runs, timeLimit, awaitNodes, version, view, say)));
    }

    private final Job job;
    private final long runs;
    private final String version;
    private final View view;
    private final Consumer<String> say;
    private long startedAt = System.nanoTime();
    private final Map<String, Node> nodes = new TreeMap<>();
    private final Map<String, ActorRef<FarmNode.Command>> nodeRefs = new TreeMap<>();
    private final Map<Long, Range> outstanding = new TreeMap<>();
    private final Set<Long> ran = new HashSet<>();
    private final TreeMap<Long, FailedRun> failures = new TreeMap<>();
    private WorkPullingProducerController.RequestNext<Range> waiting;
    private long next;
    private double secondsPerRun = Double.NaN;
    private boolean stopping;
    /** No run from this index on: the lowest failing run so far, 0 at a halt. */
    private long below = Long.MAX_VALUE;
    private String error;
    private final int awaitNodes;
    private boolean started;

    private Farm(ActorContext<Command> ctx, TimerScheduler<Command> timers, Job job, long runs, Duration timeLimit,
                 int awaitNodes, String version, View view, Consumer<String> say) {
        super(ctx);
        this.job = job;
        this.runs = runs;
        this.awaitNodes = awaitNodes;
        this.version = version;
        this.view = view;
        this.say = say;
        ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
        ActorRef<WorkPullingProducerController.Command<Range>> producer = ctx.spawn(
                WorkPullingProducerController.create(Range.class, "explore", RANGES, Optional.empty()), "ranges");
        producer.tell(new WorkPullingProducerController.Start<>(
                ctx.messageAdapter(WorkPullingProducerController.requestNextClass(), Next::new)));
        Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
                ctx.messageAdapter(ClusterEvent.UnreachableMember.class, Unreachable::new),
                ClusterEvent.UnreachableMember.class));
        if (timeLimit != null) {
            timers.startSingleTimer(Halt.INSTANCE, timeLimit);
        }
        timers.startSingleTimer(StartAnyway.INSTANCE, NODES_WAIT);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Hello.class, this::onHello)
                .onMessage(Next.class, this::onNext)
                .onMessage(RangeDone.class, this::onRangeDone)
                .onMessage(Unreachable.class, this::onUnreachable)
                .onMessageEquals(Halt.INSTANCE, this::onHalt)
                .onMessageEquals(Dismiss.INSTANCE, this::onDismiss)
                .onMessageEquals(StartAnyway.INSTANCE, this::onStartAnyway)
                .build();
    }

    private Behavior<Command> onHello(Hello h) {
        if (!h.version().equals(version)) {
            h.replyTo().tell(new FarmNode.Refused("the coordinator runs vcpu-emu " + version + ", this node "
                    + h.version() + ": every node must run the same build"));
            say.accept("explore: refused node " + h.node() + " (pid " + h.pid() + "): it runs vcpu-emu " + h.version());
            return this;
        }
        nodes.put(h.node(), new Node(h.node(), h.pid(), h.threads(), 0));
        nodeRefs.put(h.node(), h.replyTo());
        view.nodes.set(nodes.size());
        h.replyTo().tell(new FarmNode.Welcome(job, getContext().getSelf()));
        if (stopping) {
            h.replyTo().tell(new FarmNode.Stop(below));
        }
        if (!started && nodes.size() >= awaitNodes) {
            begin();
        }
        return this;
    }

    private Behavior<Command> onStartAnyway() {
        if (!started) {
            say.accept("explore: " + nodes.size() + " of " + awaitNodes + " nodes joined within "
                    + NODES_WAIT.toSeconds() + " s; the search goes on with them");
            begin();
        }
        return this;
    }

    /** The search's clock starts when its nodes are there (runs/s are the farm's, not its start-up's). */
    private void begin() {
        started = true;
        startedAt = System.nanoTime();
        sendIfDue();
    }

    private Behavior<Command> onNext(Next n) {
        waiting = n.next();
        sendIfDue();
        return this;
    }

    /** One range to the thread that asked, unless the search is over or the runs are all out. */
    private void sendIfDue() {
        if (waiting == null || !started || stopping || next >= runs) {
            return;
        }
        long size = Double.isNaN(secondsPerRun) ? 1
                : Math.max(1, Math.min(MAX_RANGE, Math.round(RANGE_SECONDS / Math.max(1e-6, secondsPerRun))));
        Range r = new Range(next, Math.min(size, runs - next));
        next += r.count();
        outstanding.put(r.from(), r);
        waiting.sendNextTo().tell(r);
        waiting = null;
    }

    private Behavior<Command> onRangeDone(RangeDone d) {
        if (d.range() != null) {
            outstanding.remove(d.range().from());
            // Delivery is at least once: a node lost between reporting a range and confirming it has
            // its range run again elsewhere. Count a range once.
            if (!ran.add(d.range().from())) {
                return finishIfOver();
            }
        }
        view.tally.add(d.ran());
        nodes.computeIfPresent(d.node(), (k, v) -> new Node(v.address(), v.pid(), v.threads(), v.runs() + d.ran().runs()));
        if (d.ran().runs() > 0) {
            double perRun = d.wallSeconds() / d.ran().runs();
            secondsPerRun = Double.isNaN(secondsPerRun) ? perRun : 0.7 * secondsPerRun + 0.3 * perRun;
        }
        if (d.failure() != null) {
            failures.put(d.failure().index(), d.failure());
            view.failing.set(failures.size());
            stop(d.failure().index());
        }
        if (d.error() != null && error == null) {
            error = "node " + d.node() + ": " + d.error();
            stop(0);
        }
        sendIfDue();
        return finishIfOver();
    }

    private Behavior<Command> onUnreachable(Unreachable u) {
        String address = FarmNode.hostPort(u.event().member().address());
        say.accept("explore: node " + address + " is unreachable: downed; its unfinished ranges go to the others");
        Cluster.get(getContext().getSystem()).manager().tell(new Down(u.event().member().address()));
        if (nodeRefs.remove(address) != null) {
            view.nodes.set(nodeRefs.size());
        }
        return this;
    }

    private Behavior<Command> onHalt() {
        stop(0);
        return finishIfOver();
    }

    /**
     * Hands out no more ranges, and tells every node to launch no run from {@code index} on. The
     * runs below a failing one still run, as on one JVM (where every run below it was launched
     * before it): the lowest failing run is reported, however fast each node was.
     */
    private void stop(long index) {
        stopping = true;
        if (index < below) {
            below = index;
            nodeRefs.values().forEach(n -> n.tell(new FarmNode.Stop(index)));
        }
    }

    /** Over when nothing is left to hand out (or the search stopped) and no range is under way. */
    private Behavior<Command> finishIfOver() {
        if ((stopping || next >= runs) && outstanding.isEmpty() && !view.outcome.isDone()) {
            double wall = (System.nanoTime() - startedAt) / 1e9;
            view.outcome.complete(new Outcome(view.tally.runs(), wall, failures.isEmpty() ? null : failures.firstEntry()
                    .getValue(), error, new ArrayList<>(nodes.values())));
        }
        return this;
    }

    private Behavior<Command> onDismiss() {
        nodeRefs.values().forEach(n -> n.tell(FarmNode.Finish.INSTANCE));
        return this;
    }
}
