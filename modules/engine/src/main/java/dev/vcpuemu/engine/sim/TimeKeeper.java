package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.List;

/**
 * Opens the quanta of virtual time (DESIGN §3). Quantum q covers [T, T+Q): every vCPU gets a
 * tick, does the work due in it and answers {@link Done}; the next quantum opens when all have.
 * The simulation is therefore self-clocked from inside its dispatcher: no Pekko timer and no
 * message from another thread is needed to advance it, end it on time, report progress or stop
 * it on request (the {@link RunControl} flag is polled at each boundary).
 *
 * <p>The producers of host-side inputs (NMI sources, reclaimers) work one quantum ahead: in
 * quantum q they emit what falls due in q+1, so every such input is in its vCPU's mailbox before
 * the quantum it is due in opens, and lands at exactly its boundary (DESIGN §3, "exact where the
 * physics has lookahead"). Before the first quantum, and before a quantum that time jumps to,
 * a priming round has them emit what falls due in that quantum itself. Which round comes next
 * is decided by a pure {@link QuantumPlan} from the participants' answers; this actor sends and
 * counts the messages. Paging workers answer as
 * they take a work item and are not ticked. A deterministic run's last quantum ends at exactly
 * its duration.
 *
 * <p>At the end it sends every participant a freeze request, answered to the stats collector,
 * and tells the collector how many answers to wait for. Because each participant sent its
 * last messages before its final {@code Done}, and the freeze requests leave after all
 * {@code Done}s arrived, every simulation message has been received when the answers are taken.
 */
public final class TimeKeeper extends AbstractBehavior<TimeKeeper.Command> {

    public sealed interface Command permits Start, Done, Participants, Decided {}

    public enum Start implements Command { INSTANCE }

    /**
     * A participant finished its part of the quantum.
     *
     * @param stats its counters when the tick (or a producer's emit) asked for them, with the
     *              messages it received so far as {@link Counter#MESSAGES}; else null
     * @param deathReason non-null when the guest died (panic, triple fault)
     * @param nextDueNanos the earliest virtual time at which it has anything to do; the end of
     *                     the quantum if it sent a message to another participant in it (the
     *                     receiver may have answered its own tick before that message arrived)
     * @param quiescent nothing will ever happen at this participant without outside input
     *                  (periodic timer ticks aside)
     */
    public record Done(Counters stats, String deathReason, long nextDueNanos, boolean quiescent) implements Command {
        /** The answer of a participant that never causes events by itself (the reclaimer). */
        public static final Done PASSIVE = new Done(null, null, Long.MAX_VALUE, true);

        /** The answer of a participant that has no counters to report. */
        public static Done of(long nextDueNanos, boolean quiescent) {
            return new Done(null, null, nextDueNanos, quiescent);
        }
    }

    /**
     * Everything the time-keeper ticks; sent once by the machine before {@link Start}.
     *
     * @param setupMessages messages the machine sent while wiring (counted as the time-keeper's)
     */
    public record Participants(List<ActorRef<VcpuActor.Command>> vcpus,
                               List<ActorRef<PagingWorker.Command>> workers,
                               List<ActorRef<Reclaimer.Command>> reclaimers,
                               List<ActorRef<NmiSource.Command>> nmiSources,
                               int setupMessages) implements Command {
        /** Everything frozen at the end. */
        int size() {
            return vcpus.size() + workers.size() + reclaimers.size() + nmiSources.size();
        }

        /** Those that emit host-side inputs ahead of time. */
        int producers() {
            return reclaimers.size() + nmiSources.size();
        }
    }

    /**
     * The next round, decided elsewhere: by the coordinator of a run over several JVMs, for every
     * node's time-keeper alike (a {@link Gate}'s answer). Not simulation traffic: not counted.
     */
    public record Decided(QuantumPlan.Next next) implements Command {}

    /**
     * Where a node's time-keeper answers in a run over several JVMs, instead of deciding the next
     * round itself: one {@link QuantumPlan} on the coordinator decides for all nodes from their
     * combined answers, and the decision comes back as {@link Decided}. Called on the keeper's
     * thread.
     */
    public interface Gate {
        /** The node's machine is built; its keeper waits for the first round. */
        void ready(ActorRef<Command> keeper);

        /**
         * The node's participants all answered the round, combined as a {@link QuantumPlan} combines
         * them: the earliest time due, whether all were quiescent, the first guest death (or null).
         *
         * @param sample the node's counters in a progress sample's quantum, with its messages so far; else null
         */
        void roundDone(long nextDueNanos, boolean quiescent, String deathReason, Counters sample);
    }

    public static Behavior<Command> create(long quantumNanos, RunControl control, ActorRef<StatsCollector.Command> collector) {
        return create(quantumNanos, control, collector, null);
    }

    /** @param gate where the rounds are decided in a run over several JVMs, or null: here */
    public static Behavior<Command> create(long quantumNanos, RunControl control, ActorRef<StatsCollector.Command> collector,
                                           Gate gate) {
        return Behaviors.setup(ctx -> new TimeKeeper(ctx, quantumNanos, control, collector, gate));
    }

    private final long quantum;
    private final RunControl control;
    private final ActorRef<StatsCollector.Command> collector;
    private final Gate gate;
    private Participants participants;
    /** The decisions, when they are taken here (no gate). */
    private QuantumPlan plan;
    // With a gate: this node's answers in the current round, combined.
    private long nodeNextDue;
    private boolean nodeQuiescent;
    private String nodeDeath;
    /** The virtual time the current round's quantum starts at (where the run ends when it does). */
    private long start;
    private int outstanding;
    /** The current round is a priming round: the producers are emitting what falls due in the quantum at {@link #start}. */
    private boolean priming;
    private boolean wantStats;
    /** The end of the current quantum: the virtual time of its progress sample. */
    private long end;
    /** The largest mailbox backlog seen as an actor reported done, since the last progress sample (-1: not counted). */
    private long backlogMax = -1;
    private Counters sample = new Counters();
    private long sent;
    private long received;
    // The barrier's wall-clock figures (RunControl.measureBarrier), else untouched.
    private final boolean measureBarrier;
    private long openedAt;
    private long waitingSince;
    private long quanta;
    private long quantumNanos;
    private long waitNanos;
    private long primes;
    private long primingNanos;

    private TimeKeeper(ActorContext<Command> ctx, long quantum, RunControl control, ActorRef<StatsCollector.Command> collector,
                       Gate gate) {
        super(ctx);
        this.gate = gate;
        this.quantum = quantum;
        this.control = control;
        this.collector = collector;
        this.measureBarrier = control.measuresBarrier();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Participants.class, this::onParticipants)
                .onMessageEquals(Start.INSTANCE, this::onStart)
                .onMessage(Done.class, this::onDone)
                .onMessage(Decided.class, this::onDecided)
                .build();
    }

    private Behavior<Command> onParticipants(Participants p) {
        received++;
        sent += p.setupMessages();
        participants = p;
        plan = new QuantumPlan(quantum, control, p.producers() > 0);
        return this;
    }

    private Behavior<Command> onStart() {
        received++;
        control.start();
        if (gate == null) {
            begin(plan.begin());
        } else {
            gate.ready(getContext().getSelf());
        }
        return this;
    }

    private Behavior<Command> onDecided(Decided d) {
        begin(d.next());
        return this;
    }

    private Behavior<Command> onDone(Done d) {
        received++;
        if (d.stats() != null) {
            sample.addAll(d.stats());
        }
        if (gate == null) {
            plan.answer(d.nextDueNanos(), d.quiescent(), d.deathReason());
        } else {
            nodeNextDue = Math.min(nodeNextDue, d.nextDueNanos());
            nodeQuiescent &= d.quiescent();
            if (nodeDeath == null) {
                nodeDeath = d.deathReason();
            }
        }
        // Read as each actor reports, while the quantum still runs elsewhere (a sum over a few cells).
        long backlog = control.mailboxBacklog();
        backlogMax = Math.max(backlogMax, backlog);
        outstanding--;
        if (measureBarrier && !priming && outstanding == control.threads() - 1) {
            // From here on at least one thread has nothing of this quantum left to run.
            waitingSince = System.nanoTime();
        }
        if (outstanding == 0) {
            roundDone(backlog);
        }
        return this;
    }

    /** The current round's last answer came: the next round, decided here or by the gate. */
    private void roundDone(long backlog) {
        if (measureBarrier) {
            lapBarrier();
        }
        Counters stats = null;
        if (!priming && wantStats) {
            // The paging workers are not ticked: each received exactly the work items sent to it,
            // every one before its vCPU reported done, so they count as received by now.
            sample.add(Counter.MESSAGES, received + sample.get(Counter.WORK_ITEMS_SENT));
            stats = sample;
            sample = new Counters();
            if (gate == null) {
                sent++;
                collector.tell(new StatsCollector.ProgressSample(control.elapsedNanos(), end, stats, backlog, backlogMax));
            }
            backlogMax = -1;
        }
        if (gate == null) {
            begin(plan.next());
        } else {
            String death = nodeDeath;
            nodeDeath = null;
            gate.roundDone(nodeNextDue, nodeQuiescent, death, stats);
        }
    }

    /** Starts the round the plan decided on, or ends the run. */
    private void begin(QuantumPlan.Next next) {
        nodeNextDue = Long.MAX_VALUE;
        nodeQuiescent = true;
        if (next instanceof QuantumPlan.Prime p) {
            prime(p);
        } else if (next instanceof QuantumPlan.Open o) {
            openQuantum(o);
        } else {
            finish((QuantumPlan.Finish) next);
        }
    }

    private void prime(QuantumPlan.Prime p) {
        priming = true;
        start = p.start();
        openedAt = measureBarrier ? System.nanoTime() : 0;
        outstanding = participants.producers();
        emit(p.emitBefore(), false);
        if (outstanding == 0) {
            // A node of a run over several JVMs primes with the others even when it has no producers.
            roundDone(control.mailboxBacklog());
        }
    }

    /** @param wantStats the producers answer with their counters (a progress sample's quantum) */
    private void emit(long beforeNanos, boolean wantStats) {
        sent += participants.producers();
        for (ActorRef<Reclaimer.Command> r : participants.reclaimers()) {
            r.tell(new Reclaimer.Emit(beforeNanos, wantStats));
        }
        for (ActorRef<NmiSource.Command> n : participants.nmiSources()) {
            n.tell(new NmiSource.Emit(beforeNanos, wantStats));
        }
    }

    private void openQuantum(QuantumPlan.Open o) {
        priming = false;
        start = o.start();
        end = o.end();
        wantStats = o.wantStats();
        outstanding = participants.vcpus().size() + participants.producers();
        if (measureBarrier) {
            // Set once by a bench when its measured part begins (bench --settle).
            if (control.takeBarrierRestart()) {
                quanta = quantumNanos = waitNanos = primes = primingNanos = 0;
            }
            openedAt = System.nanoTime();
            // Fewer participants than threads: some thread waits from the start.
            waitingSince = outstanding < control.threads() ? openedAt : 0;
        }
        sent += participants.vcpus().size();
        for (ActorRef<VcpuActor.Command> v : participants.vcpus()) {
            v.tell(new VcpuActor.Tick(end, wantStats));
        }
        emit(o.emitBefore(), wantStats);
    }

    /** The quantum (or priming round) whose last answer just came: its wall time, and how much of it a thread waited. */
    private void lapBarrier() {
        long now = System.nanoTime();
        if (priming) {
            primes++;
            primingNanos += now - openedAt;
        } else {
            quanta++;
            quantumNanos += now - openedAt;
            waitNanos += now - waitingSince;
        }
    }

    /**
     * Freeze requests and the collector's own end message are not simulation traffic: not
     * counted. A quiescent machine first asks each vCPU to report the tasks left asleep: each
     * vCPU's findings reach the collector before its frozen state, as both come from it.
     */
    private void finish(QuantumPlan.Finish f) {
        String endReason = f.endReason();
        if (measureBarrier) {
            control.barrier(new RunControl.Barrier(control.threads(), quanta, quantumNanos, waitNanos, primes,
                    primingNanos));
        }
        for (ActorRef<VcpuActor.Command> v : participants.vcpus()) {
            if (endReason.equals(RunControl.QUIESCENT)) {
                v.tell(VcpuActor.Quiesced.INSTANCE);
            }
            v.tell(new VcpuActor.Freeze(collector));
        }
        for (ActorRef<PagingWorker.Command> w : participants.workers()) {
            w.tell(new PagingWorker.Freeze(collector));
        }
        for (ActorRef<Reclaimer.Command> r : participants.reclaimers()) {
            r.tell(new Reclaimer.Freeze(collector));
        }
        for (ActorRef<NmiSource.Command> n : participants.nmiSources()) {
            n.tell(new NmiSource.Freeze(collector));
        }
        long backlog = control.mailboxBacklog();
        collector.tell(new StatsCollector.Finish(participants.size(), sent, received, f.start(), control.elapsedNanos(), endReason,
                backlog, Math.max(backlogMax, backlog)));
    }
}
