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
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * far, so that a failure or the time limit stops every node soon. The bookkeeping is
 * {@link FarmLedger}'s; this actor is its shell.
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

    /** Time is up (the search's wall-time limit passed), or the user stopped the search ({@link FarmSearch#halt}). */
    enum Halt implements Command { INSTANCE }

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
    private final String version;
    private final View view;
    private final Consumer<String> say;
    private final int awaitNodes;
    private final FarmLedger ledger;
    private final Map<String, ActorRef<FarmNode.Command>> nodeRefs = new TreeMap<>();
    private WorkPullingProducerController.RequestNext<Range> waiting;
    private long startedAt = System.nanoTime();

    private Farm(ActorContext<Command> ctx, TimerScheduler<Command> timers, Job job, long runs, Duration timeLimit,
                 int awaitNodes, String version, View view, Consumer<String> say) {
        super(ctx);
        this.job = job;
        this.awaitNodes = awaitNodes;
        this.version = version;
        this.view = view;
        this.say = say;
        this.ledger = new FarmLedger(runs, view.tally);
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
        // A repeated hello (the answer to the first was lost, or is on its way) is answered again;
        // the node takes one welcome.
        if (!nodeRefs.containsKey(h.node())) {
            ledger.join(h.node(), h.pid(), h.threads());
        }
        nodeRefs.put(h.node(), h.replyTo());
        view.nodes.set(nodeRefs.size());
        h.replyTo().tell(new FarmNode.Welcome(job, getContext().getSelf()));
        if (ledger.stopping()) {
            h.replyTo().tell(new FarmNode.Stop(ledger.below()));
        }
        if (!ledger.started() && ledger.nodes() >= awaitNodes) {
            begin();
        }
        return this;
    }

    private Behavior<Command> onStartAnyway() {
        if (!ledger.started()) {
            say.accept("explore: " + ledger.nodes() + " of " + awaitNodes + " nodes joined within "
                    + NODES_WAIT.toSeconds() + " s; the search goes on with them");
            begin();
        }
        return this;
    }

    /** The search's clock starts when its nodes are there (runs/s are the farm's, not its start-up's). */
    private void begin() {
        ledger.begin();
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
        if (waiting == null) {
            return;
        }
        Range r = ledger.take();
        if (r != null) {
            waiting.sendNextTo().tell(r);
            waiting = null;
        }
    }

    private Behavior<Command> onRangeDone(RangeDone d) {
        ledger.done(d).ifPresent(this::tellStop);
        view.failing.set(ledger.failing());
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
        ledger.halt().ifPresent(this::tellStop);
        return finishIfOver();
    }

    /** Every node: launch no run from {@code index} on (the ledger's rule: the runs below a failing one still run). */
    private void tellStop(long index) {
        nodeRefs.values().forEach(n -> n.tell(new FarmNode.Stop(index)));
    }

    private Behavior<Command> finishIfOver() {
        if (ledger.over() && !view.outcome.isDone()) {
            double wall = (System.nanoTime() - startedAt) / 1e9;
            view.outcome.complete(new Outcome(view.tally.runs(), wall, ledger.failure(), ledger.error(),
                    ledger.nodeTable()));
        }
        return this;
    }

    private Behavior<Command> onDismiss() {
        nodeRefs.values().forEach(n -> n.tell(FarmNode.Finish.INSTANCE));
        return this;
    }
}
