package dev.vcpuemu.app.cluster;

import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.QuantumPlan;
import dev.vcpuemu.model.stats.Counter;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
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
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The coordinator of one simulation over several JVMs (src/site/markdown/cluster.md). Every node
 * (this JVM's own among them) runs whole guests, guest g on node g mod K in address order, with
 * a time-keeper of its own that ticks only its own participants; the nodes share nothing but
 * virtual time. This actor holds the run's one {@link QuantumPlan}: each node's keeper answers a
 * round once, for all its participants ({@link RoundDone}: the earliest time due, quiescence, a
 * death, a progress sample's counters), and when every node has, the plan decides the next round
 * and each node is told ({@link SplitNode.Next}). So 2 × (K − 1) messages cross between JVMs per
 * round whatever the number of vCPUs, and every input with lookahead still lands at its exact
 * boundary on every node (DESIGN §3): a node's producers emit one quantum ahead as on one JVM.
 *
 * <p>Nodes say {@link Hello} with their build; another build is refused (its guests would not run
 * this build's model). When K have, each gets its {@link SplitJob}; the first round is decided when
 * every node's machine is built ({@link Ready}). At the end each node sends its part's report
 * ({@link PartDone}) and its per-vCPU rows in chunks under Artery's frame limit ({@link Rows});
 * the run's report merges them ({@link SplitMerge}).
 *
 * <p>Failure is loud: a node that becomes unreachable, or whose part failed, ends the run at once:
 * the others are told to {@link SplitNode.Abort}, the unreachable node is downed, and the outcome is
 * a partial report that names the node, its guests and the virtual time.
 */
public final class Split extends AbstractBehavior<Split.Command> {

    /** Where nodes find the coordinator. */
    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "vcpu-emu-split");

    public sealed interface Command permits Hello, Ready, RoundDone, PartDone, Rows, NodeGone, NodesLate {}

    /** A node asks to take part: its build, its address and PID. */
    public record Hello(String version, String node, long pid, ActorRef<SplitNode.Command> replyTo)
            implements Command, ClusterMessage {}

    /** Node {@code index}'s machine is built; its time-keeper waits for the first round. */
    public record Ready(int index) implements Command, ClusterMessage {}

    /**
     * Node {@code index}'s participants all answered round {@code round}, combined.
     *
     * @param sample the node's counters in a progress sample's quantum (messages so far included), else null
     * @param findings the node's findings so far
     */
    public record RoundDone(int index, long round, long nextDueNanos, boolean quiescent, String deathReason,
                            Map<String, Long> sample, long findings) implements Command, ClusterMessage {}

    /** Node {@code index}'s part ended: its report (its rows follow in {@link Rows}). */
    public record PartDone(SplitPart report) implements Command, ClusterMessage {}

    /** Chunk {@code chunk} of node {@code index}'s per-vCPU rows. */
    public record Rows(int index, int chunk, List<RunResult.VcpuTimes> rows) implements Command, ClusterMessage {}

    private record NodeGone(Address address, String how) implements Command {}

    private enum NodesLate implements Command { INSTANCE }

    /** A node of the run: its number, address, PID and guests. */
    public record Node(int index, String address, long pid, List<Integer> guests) {}

    /**
     * How the run ended.
     *
     * @param result    the merged report, or the partial one
     * @param nodes     the nodes, in node order (empty when the run never started)
     * @param parts     each node's part, in node order (empty when the run was cut short)
     * @param rounds    the rounds decided (quanta and priming rounds)
     * @param crossNode the messages of the rounds that crossed between JVMs, as counted here and by the nodes
     * @param badInput  why the run could not start (bad input, exit 2), or null
     * @param partial   the run was cut short by a node's loss or failure
     */
    public record Outcome(RunResult result, List<Node> nodes, List<SplitPart> parts, long rounds,
                          SplitMerge.CrossNode crossNode, String badInput, boolean partial) {}

    /**
     * @param control the run's bounds, in wall-clock time, decided here for every node
     */
    /** @param nodeWait how long to wait for the K nodes before giving up (bad input: a join that timed out) */
    public static Behavior<Command> create(String version, SplitJob job, long quantumNanos,
                                           RunControl control, Consumer<Progress> progress, Duration nodeWait,
                                           CompletableFuture<Outcome> outcome) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new Split(ctx, timers, version, job, quantumNanos, control, progress, nodeWait, outcome)));
    }

    private final String version;
    private final SplitJob job;
    private final long quantumNanos;
    private final Duration nodeWait;
    private final RunControl control;
    private final Consumer<Progress> progress;
    private final CompletableFuture<Outcome> outcome;
    private final Map<ActorRef<SplitNode.Command>, Hello> hellos = new HashMap<>();
    /** The nodes in node order, once all are there. */
    private final List<Hello> nodes = new ArrayList<>();
    private QuantumPlan plan;
    private int ready;
    private long round;
    private int answers;
    private QuantumPlan.Next current;
    private final Map<String, Long> sample = new TreeMap<>();
    private long sampleFindings;
    private long lastWall;
    private long lastMicroOps;
    private long lastMessages;
    /** The counters of the last progress sample, summed over the nodes (cumulative): what a partial report has. */
    private Map<String, Long> lastTotals = Map.of();
    private final SplitPart[] parts;
    private final Map<Integer, List<RunResult.VcpuTimes>> rows = new HashMap<>();
    private long crossSent;
    private long crossReceived;

    private Split(ActorContext<Command> ctx, TimerScheduler<Command> timers, String version, SplitJob job,
                  long quantumNanos, RunControl control, Consumer<Progress> progress, Duration nodeWait,
                  CompletableFuture<Outcome> outcome) {
        super(ctx);
        this.nodeWait = nodeWait;
        this.quantumNanos = quantumNanos;
        this.version = version;
        this.job = job;
        this.control = control;
        this.progress = progress;
        this.outcome = outcome;
        this.parts = new SplitPart[job.nodes()];
        ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
        Cluster cluster = Cluster.get(ctx.getSystem());
        cluster.subscriptions().tell(Subscribe.create(ctx.messageAdapter(ClusterEvent.UnreachableMember.class,
                e -> new NodeGone(e.member().address(), "unreachable")), ClusterEvent.UnreachableMember.class));
        cluster.subscriptions().tell(Subscribe.create(ctx.messageAdapter(ClusterEvent.MemberRemoved.class,
                e -> new NodeGone(e.member().address(), "gone")), ClusterEvent.MemberRemoved.class));
        timers.startSingleTimer(NodesLate.INSTANCE, nodeWait);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Hello.class, this::onHello)
                .onMessage(Ready.class, this::onReady)
                .onMessage(RoundDone.class, this::onRoundDone)
                .onMessage(PartDone.class, this::onPartDone)
                .onMessage(Rows.class, this::onRows)
                .onMessage(NodeGone.class, this::onNodeGone)
                .onMessageEquals(NodesLate.INSTANCE, this::onNodesLate)
                .build();
    }

    private Behavior<Command> onHello(Hello h) {
        if (!h.version().equals(version)) {
            h.replyTo().tell(new SplitNode.Refused("the coordinator runs " + version + ", this node " + h.version()));
            return end(badInput("node " + h.node() + " runs another build (" + h.version() + ") than this one ("
                    + version + "): every node must run the same jar"));
        }
        if (!nodes.isEmpty() || hellos.containsKey(h.replyTo())) {
            // A repeated hello (the welcome is on its way), or a node more than asked for: ignored.
            return this;
        }
        hellos.put(h.replyTo(), h);
        if (hellos.size() == job.nodes()) {
            nodes.addAll(hellos.values().stream().sorted(Comparator.comparing((Hello x) -> hostOf(x.node()))
                    .thenComparingInt(x -> portOf(x.node()))).toList());
            for (int i = 0; i < nodes.size(); i++) {
                nodes.get(i).replyTo().tell(new SplitNode.Welcome(job.forNode(i), getContext().getSelf()));
            }
        }
        return this;
    }

    private Behavior<Command> onReady(Ready r) {
        crossReceived += remote(r.index()) ? 1 : 0;
        if (++ready == nodes.size()) {
            control.start();
            plan = new QuantumPlan(quantumNanos, control, true); // every node has a guest, so a reclaimer
            decide(plan.begin());
        }
        return this;
    }

    private Behavior<Command> onRoundDone(RoundDone d) {
        crossReceived += remote(d.index()) ? 1 : 0;
        if (d.round() != round) {
            return end(failed("node " + nodes.get(d.index()).node() + " answered round " + d.round() + " in round "
                    + round));
        }
        plan.answer(d.nextDueNanos(), d.quiescent(), d.deathReason());
        if (d.sample() != null) {
            d.sample().forEach((k, v) -> sample.merge(k, v, Long::sum));
            sampleFindings += d.findings();
        }
        if (++answers == nodes.size()) {
            if (current instanceof QuantumPlan.Open o && o.wantStats()) {
                sampled(o.end());
            }
            decide(plan.next());
        }
        return this;
    }

    /** Sends every node the next round. */
    private void decide(QuantumPlan.Next next) {
        current = next;
        answers = 0;
        round++;
        for (int i = 0; i < nodes.size(); i++) {
            crossSent += remote(i) ? 1 : 0;
            nodes.get(i).replyTo().tell(new SplitNode.Next(round, SplitNode.Decision.of(next)));
        }
    }

    /** The progress sample of a quantum ending at {@code simulated}, summed over the nodes. */
    private void sampled(long simulated) {
        long wall = control.elapsedNanos();
        double dt = (wall - lastWall) / 1e9;
        long microOps = sample.getOrDefault(Counter.MICRO_OPS.key, 0L);
        long messages = sample.getOrDefault(Counter.MESSAGES.key, 0L);
        progress.accept(new Progress(wall / 1e9, simulated, sample, sampleFindings,
                dt > 0 ? (microOps - lastMicroOps) / dt : 0, dt > 0 ? (messages - lastMessages) / dt : 0, Map.of(),
                List.of(), Map.of(), -1, -1));
        lastWall = wall;
        lastMicroOps = microOps;
        lastMessages = messages;
        lastTotals = Map.copyOf(sample);
        sample.clear();
        sampleFindings = 0;
    }

    private Behavior<Command> onPartDone(PartDone p) {
        SplitPart part = p.report();
        parts[part.index()] = part;
        if (part.fault() != null && !(current instanceof QuantumPlan.Finish)) {
            // Its keeper will never answer again: the run cannot go on.
            RunResult faulted = RunResult.faulted(part.fault(), control.elapsedNanos() / 1e9);
            abort("node " + part.node() + "'s part failed");
            return end(new Outcome(faulted, nodeList(), List.of(), round, null, null, true));
        }
        return completeIfAll();
    }

    private Behavior<Command> onRows(Rows r) {
        rows.computeIfAbsent(r.index(), i -> new ArrayList<>()).addAll(r.rows());
        return completeIfAll();
    }

    private Behavior<Command> completeIfAll() {
        for (int i = 0; i < parts.length; i++) {
            if (parts[i] == null || rows.getOrDefault(i, List.of()).size() < parts[i].vcpus()) {
                return this;
            }
        }
        List<SplitPart> all = List.of(parts);
        SplitMerge.CrossNode cross = SplitMerge.crossNode(crossSent, crossReceived, all);
        String endReason = ((QuantumPlan.Finish) current).endReason();
        for (Hello n : nodes) {
            n.replyTo().tell(SplitNode.Dismiss.INSTANCE);
        }
        return end(new Outcome(SplitMerge.merge(all, rows, endReason, cross), nodeList(), all, round, cross, null,
                false));
    }

    private Behavior<Command> onNodeGone(NodeGone g) {
        if (outcome.isDone()) {
            return this;
        }
        for (int i = 0; i < nodes.size(); i++) {
            Hello n = nodes.get(i);
            if (n.replyTo().path().address().equals(g.address()) && parts[i] == null) {
                Cluster.get(getContext().getSystem()).manager().tell(new Down(g.address()));
                long at = current instanceof QuantumPlan.Open o ? o.start()
                        : current instanceof QuantumPlan.Prime p ? p.start() : 0;
                String why = String.format("node %s (guests %s) %s at %.3f ms virtual time", n.node(),
                        SplitPart.guestList(job.forNode(i).guestsHere()), g.how(), at / 1e6);
                abort(why);
                return end(new Outcome(SplitMerge.partial(why, lastTotals, at, control.elapsedNanos() / 1e9),
                        nodeList(), List.of(), round, null, null, true));
            }
        }
        return this;
    }

    private Behavior<Command> onNodesLate() {
        if (nodes.isEmpty()) {
            return end(badInput("--join-timeout: only " + hellos.size() + " of " + job.nodes()
                    + " nodes (this one included) joined within " + (nodeWait.toMillis() % 1000 == 0 ? nodeWait.toSeconds() + "s" : nodeWait.toMillis() + "ms")
                    + " (are the nodes started with node --join, and is the port open?)"));
        }
        return this;
    }

    /** Tells every node but the lost one to stop where it is. */
    private void abort(String why) {
        for (Hello n : nodes) {
            n.replyTo().tell(new SplitNode.Abort(why));
        }
    }

    private Behavior<Command> end(Outcome o) {
        outcome.complete(o);
        return this;
    }

    private Outcome badInput(String why) {
        return new Outcome(null, List.of(), List.of(), 0, null, why, false);
    }

    private Outcome failed(String why) {
        abort(why);
        return new Outcome(RunResult.faulted(new RunResult.Fault("split", why, List.of(), List.of()),
                control.elapsedNanos() / 1e9), nodeList(), List.of(), round, null, null, true);
    }

    private List<Node> nodeList() {
        List<Node> list = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            list.add(new Node(i, nodes.get(i).node(), nodes.get(i).pid(), job.forNode(i).guestsHere()));
        }
        return list;
    }

    /** Whether node {@code i} is another JVM than this one. */
    private boolean remote(int i) {
        return !nodes.get(i).replyTo().path().address().hasLocalScope();
    }

    private static String hostOf(String hostPort) {
        return hostPort.substring(0, hostPort.lastIndexOf(':'));
    }

    private static int portOf(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }
}
