package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.cpu.X86Cpu;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.apf.GuestEras;
import dev.vcpuemu.model.guest.kernel.GuestKernel;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Layout;
import dev.vcpuemu.model.host.HostApf;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.HostMemory;
import dev.vcpuemu.model.memory.VcpuFrames;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.InputKind;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.stats.TimingSink;
import dev.vcpuemu.model.stats.VcpuTime;
import dev.vcpuemu.model.trace.EventRing;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Ledger;
import dev.vcpuemu.model.truth.TokenFate;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.random.RandomGenerator;

/**
 * One x86 vCPU with its guest kernel and KVM's host half (DESIGN §1.2, §1.3): the run loop
 * that interprets guest micro-operations and takes events at micro-op boundaries, its inputs
 * (NMIs, completions, IPIs) with their due times, its virtual time and where it went, and the
 * wiring of its parts: the {@link X86Cpu}, the {@link GuestKernel} with its era's APF code, the
 * {@link HostApf} half (through {@link HostPort}), and the {@link Ledger} of ground truth.
 *
 * <p>At each boundary, in this order: inputs due by now are taken in; timer ticks, SMIs, the
 * LAPIC enable, migration and host exits fall due; a pending host entry runs (the completion
 * check of §2.1/§2.2); a blocked vCPU (synchronous fault, synthetic halt, HLT) waits for its
 * next input; then the CPU delivers one event by priority, or one micro-op of the top frame
 * runs. A faulting micro-op is not retired: the trap frame is pushed and the op runs again
 * after IRET (a precise fault).
 *
 * <p>Outputs leave through {@link Outbox}. Time and randomness are injected; nothing here reads
 * a clock or a thread.
 */
public final class Vcpu {

    /** What the vCPU sends to the rest of the machine. */
    public interface Outbox {
        void startWork(WorkItem item);

        /** A reschedule IPI to another vCPU for one of its tasks (-1: a halted waiter). */
        void remoteWake(int cpu, int task);

        /**
         * host.bugs.page-ready-to-other-vcpu: the page-ready of {@code item} (a token of this
         * vCPU) is to be delivered by vCPU {@code cpu}, through its {@link #onPageReadyFromVcpu}.
         */
        default void pageReadyElsewhere(int cpu, WorkItem item) {
            throw new UnsupportedOperationException("this machine does not route page-ready between vCPUs");
        }

        void finding(Finding finding);
    }

    /** An input waiting for its due time; {@code late}: it arrived after this vCPU had passed that time. */
    private record Timed<T>(long due, long seq, T value, boolean late) {}

    final int id;
    final Settings settings;
    final RandomGenerator rng;
    /** The host half's own random source: swap-in stalls, which frames reclaim evicts. */
    final RandomGenerator hostRng;
    final VcpuFrames frames;
    final Outbox out;
    private final Counters counters = new Counters();
    private final EventRing events = new EventRing();
    final X86Cpu cpu;
    final Ledger truth;
    final HostApf host;
    final GuestKernel kernel;
    private final GuestPlatform platform;
    LatencySink latencies = LatencySink.NONE;
    private TimingSink timing = TimingSink.NONE;
    private final long opCost;
    final int vcpus;

    // Time.
    long now;
    private long nextTick;
    private long nextExit;
    private long inputSeq;
    /**
     * Inputs due before this virtual time are late if they arrive now: the vCPU has already
     * taken the boundary where they were due (or jumped over it while waiting).
     */
    private long lateBefore;
    boolean exitPending;
    /** An event's delivery faulted on its stack frame: it is injected again once the frame is in. */
    boolean eventNeedsReinjection;
    long stallUntil = -1;
    int stallGfn;
    private long nextSmi = -1;
    /** When the software-disabled LAPIC is enabled (guest.lapic-enable-delay); -1 once it is on. */
    private long lapicEnableAt = -1;
    /** host.migrate-at, -1 once done or never. */
    private long migrateAt;
    /** The earliest of {@link #nextSmi}, {@link #lapicEnableAt} and {@link #migrateAt}: one compare per boundary. */
    private long timedEventsAt;
    /** Virtual time spent per {@link VcpuTime}, indexed by ordinal. */
    private final long[] timeUse = new long[VcpuTime.values().length];

    // Inputs waiting for their due time.
    private final PriorityQueue<Timed<Double>> nmiInputs =
            new PriorityQueue<>(Comparator.comparingLong((Timed<Double> t) -> t.due).thenComparingLong(t -> t.seq));
    private final PriorityQueue<Timed<WorkItem>> completions =
            new PriorityQueue<>(Comparator.comparingLong((Timed<WorkItem> t) -> t.due).thenComparingLong(t -> t.seq));
    /** The reclaimer's evictions, in due order (each batch covers a later span of virtual time). */
    private final ArrayDeque<Timed<Void>> evictions = new ArrayDeque<>();
    /**
     * No queued input is due before this virtual time ({@link Long#MAX_VALUE}: none queued): a
     * lower bound of the three queues' heads, so that a boundary with nothing due does not peek
     * at them (the run loop's most frequent case).
     */
    private long inputsDueAt = Long.MAX_VALUE;

    /**
     * @param rng     the guest's random source (its workload, its handlers' choices)
     * @param hostRng the host half's (the synchronous swap-ins' latencies)
     */
    public Vcpu(int id, Settings settings, RandomGenerator rng, RandomGenerator hostRng, HostMemory memory,
                SleeperTable sleepers, Outbox out, long startNanos) {
        this.id = id;
        this.settings = settings;
        this.rng = rng;
        this.hostRng = hostRng;
        this.out = out;
        this.frames = new VcpuFrames(memory, id * Layout.framesPerVcpu(settings), Layout.framesPerVcpu(settings),
                settings.host().residentLimit(), counters);
        this.opCost = settings.engine().opCostNanos();
        this.vcpus = settings.topology().vcpus();
        var h = settings.host();
        var g = settings.guest();
        this.now = startNanos;
        this.migrateAt = h.migrateAtNanos();
        if (g.lapicEnableDelayNanos() >= 0) {
            lapicEnableAt = startNanos + g.lapicEnableDelayNanos();
        }
        if (g.smi().intervalNanos() > 0) {
            nextSmi = startNanos + g.smi().intervalNanos();
        }
        timedEventsAt = earliest(nextSmi, lapicEnableAt, migrateAt);
        this.nextTick = startNanos + g.tickPeriodNanos();
        this.nextExit = startNanos + h.exitIntervalNanos();

        Recorder rec = new Recorder() {
            @Override
            public void event(TraceEvent what, long arg) {
                events.add(now, what, arg);
            }

            @Override
            public void finding(FindingKind kind, String detail) {
                events.finding(now, kind);
                out.finding(new Finding(kind, id, now, detail, events.snapshot()));
            }
        };
        this.cpu = new X86Cpu(rec, counters, lapicEnableAt < 0);
        this.truth = new Ledger(id, rec, () -> now);
        HostPort port = new HostPort(this, rec);
        this.host = new HostApf(h.era(), h.bugs(), h.fixes(), h.tokenIdStart(), id, port, port, counters);
        this.platform = new GuestPlatform(this);
        this.kernel = new GuestKernel(id, settings, rng, cpu, platform, sleepers,
                GuestEras.of(g.era()), rec, counters, truth, () -> now);
        truth.connect(host.truth(), kernel.waiting());
    }

    /** Guest frames owned by each vCPU: its kernel pages, then each task's working set. */
    public static int framesPerVcpu(Settings s) {
        return Layout.framesPerVcpu(s);
    }

    // ------------------------------------------------------------------ inputs

    /** An NMI asserted at virtual time {@code due}. */
    public void onNmi(long due, double userReadProbability) {
        queue(nmiInputs, due, userReadProbability);
    }

    /** A paging worker completed {@code item} at virtual time {@code due}. */
    public void onWorkDone(WorkItem item, long due) {
        queue(completions, due, item);
    }

    /**
     * host.bugs.page-ready-to-other-vcpu: another vCPU's host dequeued the page-ready of
     * {@code item} (one of its tokens) for this vCPU to deliver, at virtual time {@code due}.
     */
    public void onPageReadyFromVcpu(WorkItem item, long due) {
        queue(completions, due, item);
    }

    /**
     * The reclaimer's churn: one eviction at each of {@code dues} (virtual times, ascending, and
     * after those of any earlier batch). An eviction due while this vCPU is blocked takes effect
     * at its next boundary: nothing observes its frames in between, so it does not wake it.
     */
    public void onEvictions(long[] dues) {
        for (long due : dues) {
            queue(evictions, due, null);
        }
    }

    /**
     * Queues an input due at {@code due}: its sequence number breaks ties in arrival order, and
     * the earliest due time is kept so that a boundary with nothing due looks at no queue.
     */
    private <T> void queue(Queue<Timed<T>> inputs, long due, T value) {
        inputs.add(new Timed<>(due, inputSeq++, value, due < lateBefore));
        inputsDueAt = Math.min(inputsDueAt, due);
    }

    /**
     * A reschedule IPI from another vCPU that unhashed one of our waiters ({@code task}, -1: a
     * halted one), sent at the sender's virtual time {@code sentAt}. It takes effect on arrival:
     * vCPU-to-vCPU interactions inside a quantum are genuinely concurrent (DESIGN §3).
     */
    public void onRemoteWake(int task, long sentAt) {
        timing.landed(InputKind.RESCHEDULE_IPI, now > sentAt, Math.max(0, now - sentAt));
        kernel.remoteWake(task);
    }

    // ------------------------------------------------------------------ the run loop

    /**
     * Runs boundaries until virtual time reaches {@code limit}, {@code budget} boundaries were
     * taken, or the guest died. Returns the number of boundaries taken.
     */
    public int run(long limit, int budget) {
        int steps = 0;
        while (!dead() && now < limit && steps < budget) {
            acceptInputs();
            kernel.kickApfToggleIfDue(now);
            if (now >= nextTick) {
                nextTick += settings.guest().tickPeriodNanos();
                cpu.raiseIrq(Vector.TIMER);
                kernel.watchdogs(now);
            }
            if (now >= timedEventsAt) {
                timedEvents();
            }
            if (now >= nextExit) {
                nextExit += settings.host().exitIntervalNanos();
                exitPending = true;
            }
            if (stallUntil >= 0) {
                if (now < stallUntil) {
                    long until = Math.min(stallUntil, limit);
                    timeUse[VcpuTime.STALLED.ordinal()] += until - now;
                    now = until;
                    lateBefore = Math.max(lateBefore, now);
                    continue;
                }
                frames.bringIn(stallGfn);
                stallUntil = -1;
                events.add(now, TraceEvent.HOST_SYNC_FAULT_ENDS, stallGfn);
                exitPending = true;
            }
            if (exitPending) {
                exitPending = false;
                host.onEntry();
            }
            if (host.halted()) {
                if (host.hasDone() || cpu.deliverable()) {
                    host.endSyntheticHalt();
                    host.onEntry();
                } else {
                    waitForInput(limit, VcpuTime.SYNTHETIC_HALT);
                    continue;
                }
            }
            X86Cpu.FrameStack stack = cpu.nextFrameStack();
            if (stack == X86Cpu.FrameStack.NONE) {
                eventNeedsReinjection = false;
            } else if (!frames.access(stackGfn(stack))) {
                // An EPT violation while the CPU delivers the event: KVM handles it synchronously
                // and injects the event again at a later entry (behaviour 4); until then it is an
                // injected event, which no completion check may stack another #PF on.
                eventNeedsReinjection = true;
                platform.hostFault(stackGfn(stack));
                steps++;
                now += opCost;
                timeUse[VcpuTime.HANDLER.ordinal()] += opCost;
                continue;
            }
            if (cpu.deliverNext(kernel.idt())) {
                eventNeedsReinjection = false;
                steps++;
                now += opCost;
                timeUse[VcpuTime.HANDLER.ordinal()] += opCost;
                continue;
            }
            if (cpu.halted()) {
                waitForInput(limit, VcpuTime.HALTED);
                continue;
            }
            // The STI shadow lasts through exactly the next micro-op (a fault in it still sees the shadow).
            boolean hadShadow = cpu.stiShadow();
            timeUse[kernel.top().routine.handler ? VcpuTime.HANDLER.ordinal() : VcpuTime.RUNNING.ordinal()] += opCost;
            kernel.execute();
            if (hadShadow) {
                cpu.endShadow();
            }
            counters.inc(Counter.MICRO_OPS);
            steps++;
            now += opCost;
        }
        return steps;
    }

    /** The guest frame of the stack the next delivery pushes onto. */
    private int stackGfn(X86Cpu.FrameStack stack) {
        return stack == X86Cpu.FrameStack.IST ? kernel.layout().stackGfn(-1) : kernel.stackGfn();
    }

    /** SMIs, the LAPIC enable and migration, whichever are due. */
    private void timedEvents() {
        if (nextSmi >= 0 && now >= nextSmi) {
            nextSmi += settings.guest().smi().intervalNanos();
            cpu.smi();
        }
        if (lapicEnableAt >= 0 && now >= lapicEnableAt) {
            lapicEnableAt = -1;
            cpu.enableLapic();
            events.add(now, TraceEvent.GUEST_ENABLES_LAPIC, 0);
            host.onLapicEnabled();
            exitPending = true;
        }
        if (migrateAt >= 0 && now >= migrateAt) {
            migrateAt = -1;
            events.add(now, TraceEvent.VM_MIGRATED, 0);
            host.migrate();
            exitPending = true;
        }
        timedEventsAt = earliest(nextSmi, lapicEnableAt, migrateAt);
    }

    /** The earliest of the given times, ignoring -1 (never); {@link Long#MAX_VALUE} if all are -1. */
    private static long earliest(long... times) {
        long t = Long.MAX_VALUE;
        for (long x : times) {
            if (x >= 0) {
                t = Math.min(t, x);
            }
        }
        return t;
    }

    private void acceptInputs() {
        if (now >= inputsDueAt) {
            acceptDueInputs();
        }
        lateBefore = now + 1;
    }

    private void acceptDueInputs() {
        while (!nmiInputs.isEmpty() && nmiInputs.peek().due <= now) {
            Timed<Double> nmi = nmiInputs.poll();
            landed(InputKind.NMI, nmi);
            cpu.assertNmi(nmi.value);
            // kvm_inject_nmi kicks the vCPU out of the guest (or wakes it): the re-entry runs the
            // completion check before inject_pending_event (§2.1; KVM's event coupling).
            exitPending = true;
        }
        while (!evictions.isEmpty() && evictions.peek().due <= now) {
            landed(InputKind.EVICTION, evictions.poll());
            frames.scanOne();
        }
        while (!completions.isEmpty() && completions.peek().due <= now) {
            Timed<WorkItem> done = completions.poll();
            WorkItem item = done.value;
            boolean own = item.vcpu() == id;
            landed(own ? InputKind.COMPLETION : InputKind.PAGE_READY_FROM_VCPU, done);
            if (own) {
                // The worker's swap-in is done at its due time: the frame is resident from now on (§1.6).
                frames.bringIn(item.gfn());
            }
            boolean kick = own ? host.onWorkDone(item) : host.onForeignPageReady(item);
            if (kick || cpu.halted() || host.halted()) {
                exitPending = true;
            }
        }
        long due = Long.MAX_VALUE;
        if (!nmiInputs.isEmpty()) {
            due = nmiInputs.peek().due;
        }
        if (!evictions.isEmpty()) {
            due = Math.min(due, evictions.peek().due);
        }
        if (!completions.isEmpty()) {
            due = Math.min(due, completions.peek().due);
        }
        inputsDueAt = due;
    }

    /** How an input landed: a host-side one on time or late, a concurrent one behind its sender's time. */
    private void landed(InputKind kind, Timed<?> input) {
        long lateness = now - input.due;
        timing.landed(kind, kind.hostSide ? input.late : lateness > 0, lateness);
    }

    /**
     * Blocked with nothing deliverable: jump to the next moment something can change, counting the
     * time as {@code use}. That moment is always later than now (whatever was due by now was taken
     * at the top of this boundary); if it is not, the run loop would wait at the same time forever,
     * so a bookkeeping slip (an input queued but never taken) fails here instead of hanging the run.
     */
    private void waitForInput(long limit, VcpuTime use) {
        long before = now;
        long next = nextInput(Math.min(limit, nextTick));
        if (next <= now) {
            throw new IllegalStateException("vCPU " + id + " blocked at " + now + " ns with something due at " + next
                    + " ns that the boundary did not take: the run loop would wait there forever");
        }
        now = next;
        lateBefore = Math.max(lateBefore, now);
        timeUse[use.ordinal()] += now - before;
    }

    /** The earliest of {@code t}, the queued inputs, the one-off events and the next SMI. */
    private long nextInput(long t) {
        if (!nmiInputs.isEmpty()) {
            t = Math.min(t, nmiInputs.peek().due);
        }
        if (!completions.isEmpty()) {
            t = Math.min(t, completions.peek().due);
        }
        t = Math.min(t, nextScheduled());
        if (nextSmi >= 0) {
            t = Math.min(t, nextSmi);
        }
        return t;
    }

    /**
     * The next one-off event still to come on this vCPU (guest.apf-disable step, LAPIC enable,
     * migration), or {@link Long#MAX_VALUE}: while one is, the vCPU is not quiescent.
     */
    private long nextScheduled() {
        return Math.min(kernel.nextApfToggle(), earliest(lapicEnableAt, migrateAt));
    }

    // ------------------------------------------------------------------ quiescence and the next due time

    /**
     * Nothing can ever change on this vCPU without outside input (a completion, an NMI, an
     * IPI): the guest is dead, or the vCPU is halted (HLT in the idle loop or the wait path, or
     * the host's synthetic halt) with nothing deliverable, no input queued, no stall, no exit
     * pending, nothing the host would send at its next entry and no guest.apf-disable step
     * still to come. Periodic timer ticks and exits are not counted, as a NOHZ idle kernel
     * stops them; the engine ends a run when every participant is quiescent. A done list the
     * host cannot dequeue (the stalled queue of §4(iv)) does not keep a vCPU busy: that is a
     * lost wakeup too.
     */
    public boolean quiescent() {
        if (dead()) {
            return true;
        }
        if (stallUntil >= 0 || exitPending || !nmiInputs.isEmpty() || !completions.isEmpty()
                || nextScheduled() != Long.MAX_VALUE) {
            return false;
        }
        // Boot is not over until the first idle HLT exit starts the workload: without APF (no
        // wake-all at enable) that exit is the next timer tick, which changes everything.
        if (!kernel.tasksStarted()) {
            return false;
        }
        if (host.halted()) {
            return !host.hasDone() && !cpu.deliverable();
        }
        return cpu.halted() && !cpu.deliverable() && !host.completionDeliverable();
    }

    /**
     * The earliest virtual time at which this vCPU may do anything: now if it is running (or
     * about to wake), else the first of its queued inputs, the end of a stall, the next timer
     * tick and a guest.apf-disable step still to come. The engine skips quanta in which no
     * participant has anything due.
     */
    public long nextDueNanos() {
        if (dead()) {
            return Long.MAX_VALUE;
        }
        if (stallUntil < 0) {
            boolean waking = host.halted() ? host.hasDone() || cpu.deliverable()
                    : !cpu.halted() || cpu.deliverable() || host.completionDeliverable();
            if (waking || exitPending) {
                return now;
            }
        }
        long t = nextTick;
        if (stallUntil >= 0) {
            t = Math.min(t, stallUntil);
        }
        return Math.max(now, nextInput(t));
    }

    /**
     * Called when the whole machine is quiescent: every task still asleep will sleep forever
     * (one LOST_WAKEUP each, reference §4(v)).
     */
    public void reportLostWakeups() {
        kernel.waiting().reportLostWakeups();
    }

    // ------------------------------------------------------------------ observation

    public int id() {
        return id;
    }

    public X86Cpu cpu() {
        return cpu;
    }

    public HostApf host() {
        return host;
    }

    public GuestKernel kernel() {
        return kernel;
    }

    public Counters counters() {
        return counters;
    }

    /** Virtual nanoseconds spent per {@link VcpuTime} (by ordinal) so far; they add up to the time run. */
    public long[] timeUse() {
        return timeUse.clone();
    }

    public boolean dead() {
        return cpu.shutdown() != null || kernel.panicked() != null;
    }

    public String deathReason() {
        return cpu.shutdown() != null ? cpu.shutdown()
                : kernel.panicked() != null ? "guest panic: " + kernel.panicked() : null;
    }

    public long nowNanos() {
        return now;
    }

    public boolean stalled() {
        return stallUntil >= 0;
    }

    /** Reports how every input landed to {@code sink} (the report's timing block). */
    public void timingSink(TimingSink sink) {
        this.timing = sink;
    }

    /** Reports every latency this vCPU observes to {@code sink} (the engine's histograms). */
    public void latencySink(LatencySink sink) {
        this.latencies = sink;
        kernel.latencySink(sink);
    }

    /** The last events of this vCPU, oldest first, as a finding shows them. */
    public List<String> lastEvents() {
        return events.snapshot();
    }

    /** Passes every event of this vCPU to {@code sink} as well (the deterministic engine's trace). */
    public void eventSink(EventSink sink) {
        events.sink(sink, id);
    }

    /** What became of the token task {@code task} sleeps on (ground truth), or null if it is not asleep. */
    public TokenFate sleepFate(int task) {
        return kernel.waiting().sleepFate(task);
    }

    /** Tasks in uninterruptible sleep on an async #PF token. */
    public int sleepingTasks() {
        return kernel.waiting().sleepingTasks();
    }

    /** The running task (-1: idle). */
    public int currentTask() {
        return kernel.task();
    }

    /** The frame on top of the running task's stack: the routine the CPU is in. */
    public Frame top() {
        return kernel.top();
    }

    /** Completions of this vCPU's work received but not yet due (for conservation at the end of a run). */
    public int queuedCompletions() {
        return (int) completions.stream().filter(t -> t.value.vcpu() == id).count();
    }

    /** Page-readies of other vCPUs' tokens received but not yet taken in (host.bugs.page-ready-to-other-vcpu). */
    public int queuedForeignPageReadies() {
        return completions.size() - queuedCompletions();
    }

    // ------------------------------------------------------------------ for the host's and the guest's ports

    /** The synchronous fault of §2.0 step 3: the vCPU is blocked until the frame is in. */
    void stall(int gfn) {
        stallUntil = now + settings.host().swapIn().draw(hostRng);
        latencies.record(LatencyKind.SYNCHRONOUS_STALL, stallUntil - now);
        stallGfn = gfn;
    }

    void event(TraceEvent what, long arg) {
        events.add(now, what, arg);
    }
}
