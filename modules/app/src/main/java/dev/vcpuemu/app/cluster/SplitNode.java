package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.QuantumPlan;
import dev.vcpuemu.engine.sim.TimeKeeper;
import dev.vcpuemu.model.stats.Counters;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Dropped;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One JVM's part of a run over several JVMs (src/site/markdown/cluster.md), the coordinator's
 * own included. It finds the coordinator ({@link Split}) through the receptionist, says hello with
 * its build (again every {@link FarmNode#HELLO_INTERVAL} until answered), and once welcomed runs
 * its guests on this JVM's concurrent engine, its time-keeper answering the coordinator once per
 * round through a {@link TimeKeeper.Gate} and taking each next round as it comes
 * ({@link Next}). When its part has ended it sends its report and rows, and ends when dismissed
 * (exit 0), told to abort or refused (3, 2), or when it loses the coordinator (3): a node never
 * outlives its run.
 */
public final class SplitNode extends AbstractBehavior<SplitNode.Command> {

    public sealed interface Command permits Welcome, Refused, Next, Dismiss, Abort, Listed, MemberGone, HelloAgain,
            PartEnded, DroppedMessage {}

    /** The coordinator took this node: here is its job, and where to answer. */
    public record Welcome(SplitJob job, ActorRef<Split.Command> split) implements Command, ClusterMessage {}

    /** The coordinator will not take this node (another build). */
    public record Refused(String reason) implements Command, ClusterMessage {}

    /** Round {@code round}, as the coordinator decided it for every node. */
    public record Next(long round, Decision decision) implements Command, ClusterMessage {}

    /** The run is over and reported: end this node. */
    public enum Dismiss implements Command, ClusterMessage { INSTANCE }

    /** The run was cut short (a node was lost or failed): stop where it is and end, exit 3. */
    public record Abort(String reason) implements Command, ClusterMessage {}

    /** A {@link QuantumPlan.Next} as it travels: one flat record (kind PRIME, OPEN or FINISH). */
    public record Decision(String kind, long start, long end, boolean wantStats, long emitBefore, String endReason)
            implements ClusterMessage {
        static Decision of(QuantumPlan.Next n) {
            if (n instanceof QuantumPlan.Prime p) {
                return new Decision("PRIME", p.start(), 0, false, p.emitBefore(), null);
            }
            if (n instanceof QuantumPlan.Open o) {
                return new Decision("OPEN", o.start(), o.end(), o.wantStats(), o.emitBefore(), null);
            }
            QuantumPlan.Finish f = (QuantumPlan.Finish) n;
            return new Decision("FINISH", f.start(), 0, false, 0, f.endReason());
        }

        QuantumPlan.Next toPlan() {
            return switch (kind) {
                case "PRIME" -> new QuantumPlan.Prime(start, emitBefore);
                case "OPEN" -> new QuantumPlan.Open(start, end, wantStats, emitBefore);
                case "FINISH" -> new QuantumPlan.Finish(start, endReason);
                default -> throw new IllegalArgumentException("a round of unknown kind " + kind);
            };
        }
    }

    private record Listed(Receptionist.Listing listing) implements Command {}

    private record MemberGone(Address address) implements Command {}

    private enum HelloAgain implements Command { INSTANCE }

    private record PartEnded(RunResult result, Throwable error) implements Command {}

    private record DroppedMessage(Dropped dropped) implements Command {}

    /**
     * @param node  this node's host:port, as the report's {@code cluster} block shows it
     * @param ended completed when the node is done: dismissed, aborted, refused, or orphaned
     */
    public static Behavior<Command> create(String version, String node, CompletableFuture<FarmNode.Ended> ended) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new SplitNode(ctx, timers, version, node, ended)));
    }

    private final String version;
    private final String node;
    private final CompletableFuture<FarmNode.Ended> ended;
    private final TimerScheduler<Command> timers;
    private ActorRef<Split.Command> split;
    private boolean welcomed;
    private SplitJob job;
    private Simulation.Part part;
    private Path copy;
    private long dropped;
    // Written by the part's time-keeper (through the gate) and read here: the round messages and the barrier's wait.
    private volatile ActorRef<TimeKeeper.Command> keeper;
    private volatile long answeredAt;
    private volatile long answers;
    private long rounds;
    private long barrierWaitNanos;
    private boolean remote;

    private SplitNode(ActorContext<Command> ctx, TimerScheduler<Command> timers, String version, String node,
                      CompletableFuture<FarmNode.Ended> ended) {
        super(ctx);
        this.timers = timers;
        this.version = version;
        this.node = node;
        this.ended = ended;
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(Split.KEY,
                ctx.messageAdapter(Receptionist.Listing.class, Listed::new)));
        ClusterNode.watchMembers(ctx, MemberGone::new);
        ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(Dropped.class,
                ctx.messageAdapter(Dropped.class, DroppedMessage::new)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Listed.class, this::onListed)
                .onMessageEquals(HelloAgain.INSTANCE, this::onHelloAgain)
                .onMessage(Welcome.class, this::onWelcome)
                .onMessage(Refused.class, this::onRefused)
                .onMessage(Next.class, this::onNext)
                .onMessage(PartEnded.class, this::onPartEnded)
                .onMessageEquals(Dismiss.INSTANCE, this::onDismiss)
                .onMessage(Abort.class, this::onAbort)
                .onMessage(MemberGone.class, this::onMemberGone)
                .onMessage(DroppedMessage.class, d -> {
                    dropped++;
                    return this;
                })
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    private Behavior<Command> onListed(Listed l) {
        if (split == null) {
            l.listing().getServiceInstances(Split.KEY).stream().findFirst().ifPresent(s -> {
                split = s;
                remote = !s.path().address().hasLocalScope();
                hello();
                timers.startTimerWithFixedDelay(HelloAgain.INSTANCE, FarmNode.HELLO_INTERVAL);
            });
        }
        return this;
    }

    private Behavior<Command> onHelloAgain() {
        hello();
        return this;
    }

    private void hello() {
        split.tell(new Split.Hello(version, node, ProcessHandle.current().pid(), getContext().getSelf()));
    }

    private Behavior<Command> onWelcome(Welcome w) {
        timers.cancel(HelloAgain.INSTANCE);
        if (welcomed) {
            return this;
        }
        welcomed = true;
        job = w.job();
        try {
            copy = Files.createTempDirectory("vcpu-emu-node");
            LoadedSettings loaded = job.load(copy);
            var s = loaded.settings();
            // Never asked when to end: the coordinator's plan decides every round.
            RunControl control = RunControl.wallClock(s.run().duration(), s.run().progressInterval());
            part = Simulation.startPart(s, loaded.config(), control, job::holds, new Gate(control));
            getContext().pipeToSelf(part.result(), PartEnded::new);
        } catch (Exception e) {
            // Not this node's input to judge: the coordinator loaded the same text. Its part fails: the run cannot go on.
            getContext().getSelf().tell(new PartEnded(null, new IllegalStateException(
                    "cannot load the job's topology: " + e.getMessage(), e)));
        }
        return this;
    }

    /** The part's time-keeper answers the coordinator through this, on its own thread. */
    private final class Gate implements TimeKeeper.Gate {
        private final RunControl control;

        Gate(RunControl control) {
            this.control = control;
        }

        @Override
        public void ready(ActorRef<TimeKeeper.Command> keeper) {
            SplitNode.this.keeper = keeper;
            answer(new Split.Ready(job.index()));
        }

        @Override
        public void roundDone(long nextDueNanos, boolean quiescent, String deathReason, Counters sample) {
            answer(new Split.RoundDone(job.index(), answers, nextDueNanos, quiescent, deathReason,
                    sample == null ? null : sample.toMap(), sample == null ? 0 : control.findings()));
        }

        private void answer(Split.Command answer) {
            answeredAt = System.nanoTime();
            answers++;
            split.tell(answer);
        }
    }

    private Behavior<Command> onNext(Next n) {
        rounds++;
        barrierWaitNanos += System.nanoTime() - answeredAt;
        keeper.tell(new TimeKeeper.Decided(n.decision().toPlan()));
        return this;
    }

    private Behavior<Command> onPartEnded(PartEnded e) {
        RunResult r = e.result() != null ? e.result()
                : RunResult.faulted(new RunResult.Fault("node " + node, String.valueOf(e.error()), List.of(), List.of()), 0);
        split.tell(new Split.PartDone(SplitPart.of(job.index(), node, job.guestsHere(), r, remote ? answers : 0,
                remote ? rounds : 0, barrierWaitNanos, dropped)));
        List<RunResult.VcpuTimes> rows = r.vcpuTimes();
        for (int from = 0, chunk = 0; from < rows.size(); from += SplitPart.ROWS_PER_CHUNK, chunk++) {
            split.tell(new Split.Rows(job.index(), chunk,
                    List.copyOf(rows.subList(from, Math.min(rows.size(), from + SplitPart.ROWS_PER_CHUNK)))));
        }
        return this;
    }

    private Behavior<Command> onRefused(Refused r) {
        timers.cancel(HelloAgain.INSTANCE);
        ended.complete(new FarmNode.Ended(2, r.reason()));
        return this;
    }

    private Behavior<Command> onDismiss() {
        end(new FarmNode.Ended(0, null));
        return this;
    }

    private Behavior<Command> onAbort(Abort a) {
        end(new FarmNode.Ended(3, "the run was aborted: " + a.reason()));
        return this;
    }

    private Behavior<Command> onMemberGone(MemberGone g) {
        if (split != null && remote && split.path().address().equals(g.address())) {
            end(new FarmNode.Ended(3, "lost the coordinator at " + FarmNode.hostPort(g.address())));
        }
        return this;
    }

    private void end(FarmNode.Ended how) {
        stopPart();
        ended.complete(how);
    }

    private Behavior<Command> onPostStop() {
        stopPart();
        return this;
    }

    private void stopPart() {
        if (part != null) {
            part.system().terminate();
            part = null;
        }
        if (copy != null) {
            Job.delete(copy);
            copy = null;
        }
    }
}
