package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencyKind;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.DeadLetter;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Collects findings as they are reported, turns progress samples into {@link Progress}, and at
 * the end of the run gathers every participant's frozen state to check conservation exactly
 * (DESIGN §1.6): tokens issued = delivered + suppressed + flushed + outstanding; every work
 * item answered or pending; messages sent = messages received; no dead letters.
 *
 * <p>A sample's counters are those of the final report, so far: every actor's (the NMI
 * sources' {@code nmisSent} too), {@code messages} received by every actor, {@code deadLetters}.
 * The run's end is a last sample, built from the frozen totals themselves, unless nothing
 * changed since the one before: the intervals between samples cover the whole run, and their
 * increases add up to the report's counters and latency counts exactly.
 */
public final class StatsCollector extends AbstractBehavior<StatsCollector.Command> {

    public sealed interface Command permits FindingReported, ProgressSample, Finish, Frozen {}

    public record FindingReported(Finding finding) implements Command {}

    /**
     * @param mailboxBacklog messages waiting in the simulation's mailboxes as the sampled quantum
     *                       closed, and {@code mailboxBacklogMax} the most seen as any actor
     *                       reported done since the last sample (-1: the run does not count them)
     */
    public record ProgressSample(long wallNanos, long simulatedNanos, Counters totals, long mailboxBacklog,
                                 long mailboxBacklogMax) implements Command {}

    /** @param mailboxBacklog and {@code mailboxBacklogMax} as in {@link ProgressSample}, for the last interval */
    public record Finish(int participants, long timeKeeperSent, long timeKeeperReceived, long simulatedNanos,
                         long wallNanos, String endReason, long mailboxBacklog, long mailboxBacklogMax)
            implements Command {}

    /**
     * One participant's final state.
     *
     * @param counters its counters, or null if it keeps none
     * @param facts named quantities for the conservation check
     * @param times where a vCPU's time went, or null for other actors
     */
    public record Frozen(String who, Counters counters, long sent, long received, Map<String, Long> facts,
                         RunResult.VcpuTimes times) implements Command {}

    /** The report's counter of dead letters, beside the {@link Counter}s. */
    static final String DEAD_LETTERS = "deadLetters";

    /** Examples kept per finding kind. */
    static final int EXAMPLES_PER_KIND = 3;

    /**
     * @param progress where each progress sample goes, or null when nobody reads them (the run is the same)
     * @param deadLetters the count kept by {@link #countingDeadLetters}, the machine's other child
     */
    public static Behavior<Command> create(CompletableFuture<RunResult> result, Consumer<Progress> progress,
                                           RunControl control, LatencyRecorders latencies, InputTimings timings,
                                           LongAdder deadLetters) {
        return Behaviors.setup(ctx -> new StatsCollector(ctx, result, progress, control, latencies, timings, deadLetters));
    }

    private final CompletableFuture<RunResult> result;
    private final Consumer<Progress> progress;
    private final RunControl control;
    private final Map<FindingKind, Long> findings = new EnumMap<>(FindingKind.class);
    private final List<Finding> examples = new ArrayList<>();
    private final List<Frozen> frozen = new ArrayList<>();
    private final LatencyRecorders latencies;
    private final InputTimings timings;
    /** The run's latencies per kind, made at a kind's first value (kinds without any read as empty). */
    private final Map<LatencyKind, Histogram> latencyTotals = new EnumMap<>(LatencyKind.class);
    private long findingCount;
    private long received;
    private final LongAdder deadLetters;
    private Finish finish;
    private long lastWall;
    private long lastSimulated;
    private long lastFindings;
    /** The counters of the last sample, or null before the first. */
    private Map<String, Long> lastCounters;

    private StatsCollector(ActorContext<Command> ctx, CompletableFuture<RunResult> result, Consumer<Progress> progress,
                           RunControl control, LatencyRecorders latencies, InputTimings timings,
                           LongAdder deadLetters) {
        super(ctx);
        this.latencies = latencies;
        this.timings = timings;
        this.result = result;
        this.progress = progress;
        this.control = control;
        this.deadLetters = deadLetters;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(FindingReported.class, this::onFinding)
                .onMessage(ProgressSample.class, this::onProgressSample)
                .onMessage(Finish.class, this::onFinish)
                .onMessage(Frozen.class, this::onFrozen)
                .build();
    }

    private Behavior<Command> onFinding(FindingReported f) {
        received++;
        findingCount++;
        long n = findings.merge(f.finding().kind(), 1L, Long::sum);
        control.findingReported(f.finding().kind());
        if (n <= EXAMPLES_PER_KIND) {
            examples.add(f.finding());
        }
        return this;
    }

    private Behavior<Command> onProgressSample(ProgressSample p) {
        received++;
        if (progress == null) {
            return this; // nobody reads samples (explore): the latencies are taken once, at the end
        }
        Map<String, Long> counters = p.totals().toMap();
        counters.merge(Counter.MESSAGES.key, received, Long::sum);
        counters.put(DEAD_LETTERS, deadLetters.sum());
        sample(p.wallNanos(), p.simulatedNanos(), counters, takeLatencies(), p.mailboxBacklog(), p.mailboxBacklogMax());
        return this;
    }

    private void sample(long wallNanos, long simulatedNanos, Map<String, Long> counters,
                        Map<LatencyKind, Histogram> intervalLatencies, long backlog, long backlogMax) {
        double dt = (wallNanos - lastWall) / 1e9;
        long microOps = counters.get(Counter.MICRO_OPS.key);
        long messages = counters.get(Counter.MESSAGES.key);
        long lastMicroOps = lastCounters == null ? 0 : lastCounters.get(Counter.MICRO_OPS.key);
        long lastMessages = lastCounters == null ? 0 : lastCounters.get(Counter.MESSAGES.key);
        progress.accept(new Progress(wallNanos / 1e9, simulatedNanos, counters, findingCount,
                dt > 0 ? (microOps - lastMicroOps) / dt : 0, dt > 0 ? (messages - lastMessages) / dt : 0,
                findings, examples, intervalLatencies, backlog, backlogMax));
        lastWall = wallNanos;
        lastSimulated = simulatedNanos;
        lastFindings = findingCount;
        lastCounters = counters;
    }

    /**
     * Counts the dead letters addressed to the actors under {@code machine} (a path ending in
     * "/"): in a reused actor system (explore) a previous run's late letters are not this run's.
     * Dead letters come from Pekko's event stream on another thread, at a wall-clock moment: a
     * simulation actor receiving them would make the deterministic engine's schedule (and trace)
     * depend on that moment. So this listener runs on the default dispatcher.
     */
    static Behavior<DeadLetter> countingDeadLetters(LongAdder count, String machine) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(DeadLetter.class, ctx.getSelf()));
            return Behaviors.receive(DeadLetter.class).onMessage(DeadLetter.class, d -> {
                if (d.recipient().path().toStringWithoutAddress().startsWith(machine)) {
                    count.increment();
                }
                return Behaviors.same();
            }).build();
        });
    }

    private Behavior<Command> onFinish(Finish f) {
        finish = f;
        return completeIfReady();
    }

    private Behavior<Command> onFrozen(Frozen f) {
        frozen.add(f);
        return completeIfReady();
    }

    private Behavior<Command> completeIfReady() {
        if (finish == null || frozen.size() < finish.participants() || result.isDone()) {
            return this;
        }
        Counters totals = new Counters();
        Map<String, Long> facts = new HashMap<>();
        long sent = finish.timeKeeperSent();
        long recv = finish.timeKeeperReceived() + received;
        List<RunResult.VcpuTimes> times = new ArrayList<>();
        for (Frozen f : frozen) {
            if (f.times() != null) {
                times.add(f.times());
            }
            if (f.counters() != null) {
                totals.addAll(f.counters());
            }
            f.facts().forEach((k, v) -> facts.merge(k, v, Long::sum));
            sent += f.sent();
            recv += f.received();
        }
        Map<String, Long> counters = totals.toMap();
        counters.put(Counter.MESSAGES.key, recv);
        long deadLetters = this.deadLetters.sum();
        counters.put(DEAD_LETTERS, deadLetters);
        if (progress == null) {
            latencies.drainInto(latencyTotals);
        }
        Map<LatencyKind, Histogram> lastLatencies = progress == null ? Map.of() : takeLatencies();
        // Before the result: whoever waits for it has every sample by then.
        if (progress != null && (lastCounters == null || finish.simulatedNanos() != lastSimulated || findingCount != lastFindings
                || !counters.equals(lastCounters) || lastLatencies.values().stream().anyMatch(h -> h.getTotalCount() > 0))) {
            sample(finish.wallNanos(), finish.simulatedNanos(), new LinkedHashMap<>(counters), lastLatencies,
                    finish.mailboxBacklog(), finish.mailboxBacklogMax());
        }
        Map<String, LatencySummary> latencySummaries = new LinkedHashMap<>();
        for (LatencyKind k : LatencyKind.values()) {
            latencySummaries.put(k.key, LatencySummary.of(latencyTotals.getOrDefault(k, LatencyRecorders.EMPTY)));
        }
        result.complete(new RunResult(finish.wallNanos() / 1e9, finish.simulatedNanos(), counters,
                new EnumMap<>(findings), List.copyOf(examples), conservation(totals, facts, sent, recv, deadLetters),
                finish.endReason(), null, null, -1, null, latencySummaries,
                times.stream().sorted(Comparator.comparingInt(RunResult.VcpuTimes::guest)
                        .thenComparingInt(RunResult.VcpuTimes::vcpu)).toList(), timings.totals()));
        return this;
    }

    /** The latencies recorded since the last call, also added to the run's totals. */
    private Map<LatencyKind, Histogram> takeLatencies() {
        Map<LatencyKind, Histogram> interval = latencies.interval();
        interval.forEach((k, h) -> {
            if (h.getTotalCount() > 0) {
                latencyTotals.computeIfAbsent(k, x -> LatencyRecorders.total()).add(h);
            }
        });
        return interval;
    }

    private RunResult.Conservation conservation(Counters c, Map<String, Long> facts, long sent, long received,
                                                 long deadLetters) {
        List<String> broken = new ArrayList<>();
        long issued = c.get(Counter.TOKENS_ISSUED);
        long delivered = c.get(Counter.APF_PAGE_READY_INJECTED) - c.get(Counter.WAKE_ALLS);
        long suppressed = c.get(Counter.PAGE_READY_SUPPRESSED);
        long flushed = facts.getOrDefault("tokensFlushed", 0L);
        long outstanding = facts.getOrDefault("tokensOutstanding", 0L);
        String tokens = String.format("tokens: %d issued = %d delivered + %d suppressed + %d flushed + %d outstanding",
                issued, delivered, suppressed, flushed, outstanding);
        if (issued != delivered + suppressed + flushed + outstanding) {
            broken.add(tokens);
        }
        long workSent = c.get(Counter.WORK_ITEMS_SENT);
        long workReceived = facts.getOrDefault("workReceived", 0L);
        long answered = facts.getOrDefault("workAnswered", 0L);
        long pending = facts.getOrDefault("workPending", 0L);
        long completed = c.get(Counter.WORK_ITEMS_COMPLETED);
        long queued = facts.getOrDefault("completionsQueued", 0L);
        String work = String.format("work items: %d sent = %d received = %d answered + %d pending; %d answered = %d completed + %d queued",
                workSent, workReceived, answered, pending, answered, completed, queued);
        if (workSent != workReceived || workReceived != answered + pending || answered != completed + queued) {
            broken.add(work);
        }
        String messages = String.format("messages: %d sent = %d received, %d dead letters", sent, received, deadLetters);
        if (sent != received || deadLetters != 0) {
            broken.add(messages);
        }
        boolean held = broken.isEmpty();
        return new RunResult.Conservation(held, held ? tokens + "; " + work + "; " + messages
                : "broken: " + String.join("; ", broken));
    }
}
