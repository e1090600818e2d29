package dev.vcpuemu.engine.run;

import dev.vcpuemu.model.finding.FindingKind;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * How a run is bounded and stopped. The time-keeper asks it at every quantum boundary, from
 * inside the simulation dispatcher: under saturation Pekko does not run work submitted from
 * other threads (DESIGN §3), so a stop request is a flag, never a message.
 *
 * <p>A concurrent run is bounded in wall-clock time and samples progress by the wall clock. A
 * deterministic run must be bounded deterministically (DESIGN §3): its duration and progress
 * interval are virtual time, and it may also be bounded by a number of scheduling steps. In
 * both, a finding kind chosen by the caller (explore's "unexpected finding") ends the run at
 * the next boundary.
 */
public final class RunControl {
    /** End reasons the time-keeper reports besides a guest's death. */
    public static final String DURATION = "duration";
    public static final String STOPPED = "stopped";
    public static final String QUIESCENT = "quiescent";
    public static final String STEP_BUDGET = "step budget";
    public static final String FINDING_PREFIX = "finding: ";

    private final LongSupplier wallClock;
    private final boolean virtual;
    private final long durationNanos;
    private final long progressIntervalNanos;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private volatile long startNanos;
    private Predicate<FindingKind> stopOn = k -> false;
    private LongSupplier steps = () -> 0;
    private long maxSteps = Long.MAX_VALUE;
    private volatile FindingKind stoppingFinding;
    private final AtomicLong findings = new AtomicLong();
    private boolean countBacklog;
    private LongSupplier backlog = () -> -1;
    private Runnable onStart = () -> { };
    private boolean measureBarrier;
    private int threads = 1;
    private volatile Barrier barrier;
    private final AtomicBoolean barrierRestart = new AtomicBoolean();

    private RunControl(LongSupplier wallClock, boolean virtual, Duration duration, Duration progressInterval) {
        this.wallClock = wallClock;
        this.virtual = virtual;
        this.durationNanos = duration.toNanos();
        this.progressIntervalNanos = progressInterval.toNanos();
    }

    /** Concurrent engine: {@code duration} and {@code progressInterval} are wall-clock time. */
    public static RunControl wallClock(Duration duration, Duration progressInterval) {
        return new RunControl(System::nanoTime, false, duration, progressInterval);
    }

    /** As {@link #wallClock(Duration, Duration)}, reading {@code clock} (nanoseconds) for the wall clock: for tests. */
    public static RunControl wallClock(Duration duration, Duration progressInterval, LongSupplier clock) {
        return new RunControl(clock, false, duration, progressInterval);
    }

    /** Deterministic engines: {@code duration} and {@code progressInterval} are virtual time. */
    public static RunControl virtualTime(Duration duration, Duration progressInterval) {
        return new RunControl(System::nanoTime, true, duration, progressInterval);
    }

    /** Ends the run at the first boundary after a finding of a kind {@code stopOn} accepts. */
    public RunControl stopOnFinding(Predicate<FindingKind> stopOn) {
        this.stopOn = Objects.requireNonNull(stopOn);
        return this;
    }

    /** Ends a deterministic run at the first boundary after {@code maxSteps} scheduling steps. */
    public RunControl stepBudget(long maxSteps) {
        this.maxSteps = maxSteps;
        return this;
    }

    /**
     * Counts the messages waiting in the simulation's mailboxes (a counting mailbox, two adds
     * per message), for the progress samples: soak runs ask for it, benchmarks do not.
     */
    public RunControl countMailboxBacklog() {
        this.countBacklog = true;
        return this;
    }

    public boolean countsMailboxBacklog() {
        return countBacklog;
    }

    /** Set by the engine when the run counts its mailbox backlog. */
    public void backlogGauge(LongSupplier backlog) {
        this.backlog = backlog;
    }

    /** Messages waiting in the simulation's mailboxes now, or -1 when not counted. */
    public long mailboxBacklog() {
        return backlog.getAsLong();
    }

    /**
     * Where the quanta's wall time went, as the time-keeper saw it (bench, concurrent engine).
     * {@code quantumNanos}: from opening each quantum (its ticks sent) to its last answer, summed.
     * {@code waitNanos}: the part of it while fewer of the quantum's participants were left than
     * the dispatcher has threads, so that at least one thread had nothing of the quantum to run:
     * the barrier's cost in idle cores. {@code primingNanos}: the priming rounds before quanta
     * that time jumped to.
     */
    public record Barrier(int threads, long quanta, long quantumNanos, long waitNanos, long primes,
                          long primingNanos) {}

    /**
     * Has the time-keeper read the wall clock at each answer and keep the {@link Barrier}: a
     * measurement of the concurrent engine (a deterministic run would read the wall clock for
     * nothing: its quanta run on one thread).
     */
    public RunControl measureBarrier() {
        this.measureBarrier = true;
        return this;
    }

    public boolean measuresBarrier() {
        return measureBarrier;
    }

    /** Set by the engine: the threads its simulation dispatcher has (1 for the deterministic engine). */
    public void threads(int threads) {
        this.threads = threads;
    }

    public int threads() {
        return threads;
    }

    /** Set by the time-keeper as the run ends. */
    public void barrier(Barrier barrier) {
        this.barrier = barrier;
    }

    /**
     * Asks the time-keeper to count the barrier afresh from the next quantum on: a bench that
     * measures only the part of a run after its start-up (its settle point); safe from any thread.
     */
    public void restartBarrier() {
        barrierRestart.set(true);
    }

    /** Read by the time-keeper at each quantum it opens: whether to count its barrier afresh. */
    public boolean takeBarrierRestart() {
        // A plain volatile read on every quantum but the one after the request.
        return barrierRestart.get() && barrierRestart.getAndSet(false);
    }

    /** The run's barrier, once it has ended, or null when not measured. */
    public Barrier barrier() {
        return barrier;
    }

    /** The deterministic engine's count of scheduling steps, read by the time-keeper on its thread. */
    public void countSteps(LongSupplier steps) {
        this.steps = steps;
    }

    /**
     * Runs {@code action} when the first quantum opens, on the simulation's thread (keep it
     * short): a progress display starts its clock there, not while the actor system starts.
     */
    public RunControl onStart(Runnable action) {
        this.onStart = Objects.requireNonNull(action);
        return this;
    }

    public void start() {
        startNanos = wallClock.getAsLong();
        onStart.run();
    }

    /** The wall clock ({@link System#nanoTime}) when the first quantum opened: the end of start-up. */
    public long startedAtNanos() {
        return startNanos;
    }

    public long elapsedNanos() {
        return wallClock.getAsLong() - startNanos;
    }

    /** The measure progress is sampled by: virtual nanoseconds, or elapsed wall nanoseconds. */
    public long progressClock(long virtualNanos) {
        return virtual ? virtualNanos : elapsedNanos();
    }

    public long progressIntervalNanos() {
        return progressIntervalNanos;
    }

    /**
     * When the sample after the one taken at progress clock {@code clock} falls due. Wall-clock
     * samples keep to the grid of whole intervals from the start (interval k at k intervals),
     * whatever the lateness of the quantum each was taken in: so a soak of 20 s at 5 s takes its
     * samples at 5, 10 and 15 s and its fourth interval is the run's end. (A quantum longer than
     * an interval skips the grid points it spans rather than sampling at every boundary to catch
     * up.) Virtual-time samples fall due an interval after the start of the quantum sampled, as
     * they always have: which quanta are sampled is part of a deterministic run's trace.
     */
    public long nextProgressNanos(long clock) {
        if (virtual) {
            return clock + progressIntervalNanos;
        }
        return (clock / progressIntervalNanos + 1) * progressIntervalNanos;
    }

    public Duration duration() {
        return Duration.ofNanos(durationNanos);
    }

    /** Where virtual time ends: a deterministic run's duration; unbounded for a wall-clock run. */
    public long virtualEnd() {
        return virtual ? durationNanos : Long.MAX_VALUE;
    }

    /** Called by the stats collector for every finding. */
    public void findingReported(FindingKind kind) {
        findings.incrementAndGet();
        if (stoppingFinding == null && stopOn.test(kind)) {
            stoppingFinding = kind;
        }
    }

    /** The findings reported so far; safe from any thread. */
    public long findings() {
        return findings.get();
    }

    /**
     * Why the run must end at progress clock {@code clock} ({@link #progressClock}: the next
     * quantum's start, or the elapsed wall time), or null to go on. The caller reads the clock
     * once for this and for the progress sample of the same quantum, so the two agree: a
     * wall-clock sample is never taken at or past the end, whose own line closes the run.
     */
    public String endReason(long clock) {
        FindingKind f = stoppingFinding;
        if (f != null) {
            return FINDING_PREFIX + f.name();
        }
        if (stopRequested.get()) {
            return STOPPED;
        }
        if (steps.getAsLong() >= maxSteps) {
            return STEP_BUDGET;
        }
        return clock >= durationNanos ? DURATION : null;
    }

    /** Asks the run to stop at the end of the current quantum; safe from any thread. */
    public void requestStop() {
        stopRequested.set(true);
    }
}
