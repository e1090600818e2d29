package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.GuestPageTables;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.host.ApfArea;
import dev.vcpuemu.model.host.Delivery;
import dev.vcpuemu.model.host.HostApf;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.HostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.stats.VcpuTime;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.trace.EventRing;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;

/**
 * One x86 vCPU with its guest kernel and KVM's host half: an interpreter of guest
 * micro-operations with x86 delivery rules at micro-op boundaries (DESIGN §1.2, reference §1.8).
 *
 * <p>At each boundary, in this order: a pending host entry runs (the completion check of
 * §2.1/§2.2); a blocked vCPU (synchronous fault, synthetic halt, HLT) waits; then one event is
 * delivered by priority, exception &gt; NMI (unless blocked since the last NMI, §4(vii)) &gt;
 * maskable interrupt (IF=1 and no STI shadow, IRR coalesces per vector); otherwise one
 * micro-op of the top frame runs. A faulting micro-op is not retired: the trap frame is pushed
 * and the op runs again after IRET (a precise fault). A second exception while one is pending
 * is a double fault, a third a triple fault.
 *
 * <p>The guest programs (§2.1 legacy 5.3–5.7, §2.2 5.9 and later) are switches on a program
 * counter, one micro-op per step, so the window of hazard (i) (an NMI between #PF delivery and
 * the read of the reason/flags word) is exactly the steps before {@code READ_CLEAR_WORD}.
 *
 * <p>Inputs arrive as {@link #onNmi}, {@link #onWorkDone} and {@link #onRemoteWake}; an input
 * carrying a due time takes effect at the first boundary at or after it. Outputs leave through
 * {@link Outbox}. Time and randomness are injected; nothing here reads a clock or a thread.
 */
public final class Vcpu implements HostApf.CpuPort {

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

    public static final int VECTOR_PF = 14;
    public static final int VECTOR_DF = 8;
    public static final int VECTOR_VE = 20;
    public static final int VECTOR_TIMER = 0xEC;
    public static final int VECTOR_APF = 0xF3;
    public static final int VECTOR_RESCHED = 0xFD;
    /** Low 32 bits chosen so that a user address only equals a token after ~800k APFs on vCPU 0. */
    public static final long USER_BASE = 0x7fa5_c3d2_1000L;
    public static final long PAGE = 4096;
    public static final String PANIC_IF_OFF = "Host injected async #PF in interrupt disabled region";
    public static final String PANIC_KERNEL_MODE = "Host injected async #PF in kernel mode";
    /**
     * The page an instrumented #PF entry (tracing, context tracking) touches when it faults: a
     * vmalloc'd kernel buffer whose low 32 bits (0xFFF) can never be a token, as no vCPU id is 4095.
     */
    public static final long TRACE_BUFFER = 0xffff_c900_0000_0fffL;
    private static final int GENUINE_VMALLOC = 1;

    private static final int NMI_NOT_RUNNING = 0;
    private static final int NMI_EXECUTING = 1;
    private static final int NMI_LATCHED = 2;
    /** The last step of every interrupt routine: irq_exit (and preemption) is done, IRET next. */
    private static final int PC_IRQ_IRET = 100;
    private static final int SYSCALL_PREEMPTIBLE = 0;
    private static final int SYSCALL_PREEMPT_OFF = 1;
    private static final int SYSCALL_IRQ_OFF = 2;
    /**
     * KVM-as-L1's code between {@code local_irq_enable()} after a VM exit and
     * {@code kvm_handle_page_fault} (the exit-reason dispatch): micro-ops with IRQs on (§2.4 step 6).
     */
    private static final int L1_EXIT_DISPATCH_OPS = 16;

    /** An exception to deliver; {@code vmExit}: as a #PF VM exit to L1, {@code cr2} its exit qualification (§2.4). */
    private record Pending(int vector, long cr2, long errorCode, Delivery delivery, boolean vmExit) {}

    private record Timed<T>(long due, long seq, T value) {}

    private final int id;
    private final Settings settings;
    private final RandomGenerator rng;
    private final HostMemory memory;
    private final SleeperTable sleepers;
    private final Outbox out;
    private final Counters counters = new Counters();
    private final HostApf host;
    private final EventRing events = new EventRing();
    private LatencySink latencies = LatencySink.NONE;
    private final long opCost;
    private final int vcpus;

    // Time.
    private long now;
    private long nextTick;
    private long nextExit;
    private long inputSeq;

    // Architectural CPU state.
    private boolean ifFlag;
    private boolean stiShadow;
    private long cr2;
    private boolean nmiBlocked;
    private boolean nmiPending;
    private double nmiPendingUserRead;
    private double nmiUserReadProbability;
    private final long[] irr = new long[4];
    private Pending pendingException;
    private boolean hlt;
    private boolean exitPending;
    private long stallUntil = -1;
    /** CR0.PG is 0 while the vCPU is in SMM (guest.smi). */
    private boolean inSmm;
    private boolean smiPending;
    private long nextSmi = -1;
    /** When the software-disabled LAPIC is enabled (guest.lapic-enable-delay); -1 once it is on. */
    private long lapicEnableAt = -1;
    /** host.migrate-at, -1 once done or never. */
    private long migrateAt;
    /** The earliest of {@link #nextSmi}, {@link #lapicEnableAt} and {@link #migrateAt}: one compare per boundary. */
    private long timedEventsAt = Long.MAX_VALUE;
    /** The #VE design: the information area of each nesting level (reason, token), 0 when consumed. */
    private final long[] veInfo = new long[8];
    /** Virtual time spent per {@link VcpuTime}, indexed by ordinal. */
    private final long[] timeUse = new long[VcpuTime.values().length];
    private int stallGfn;

    // Guest kernel per-CPU state.
    private boolean guestApfEnabled;
    private int nmiState = NMI_NOT_RUNNING;
    private long nmiCr2;
    private long nmiSince;
    private int nmiNesting;
    private int irqNesting;
    private boolean needResched;
    private boolean tasksStarted;
    /** Virtual time of the next guest APF disable / re-enable (guest.apf-disable), -1 for none. */
    private long disableAt;
    private long reenableAt = -1;
    /** The reschedule IPI that wakes the idle task for the due disable / re-enable was sent. */
    private boolean apfToggleKicked;
    private long idleHalts;
    private final Task[] tasks;
    private final Task idle;
    private Task current;
    private final ArrayDeque<Task> runQueue = new ArrayDeque<>();
    private final int gfnBase;
    private final int kernelPages;
    private final int workingSet;

    // Inputs waiting for their due time.
    private final PriorityQueue<Timed<Double>> nmiInputs =
            new PriorityQueue<>(Comparator.comparingLong((Timed<Double> t) -> t.due).thenComparingLong(t -> t.seq));
    private final PriorityQueue<Timed<WorkItem>> completions =
            new PriorityQueue<>(Comparator.comparingLong((Timed<WorkItem> t) -> t.due).thenComparingLong(t -> t.seq));

    // Ground truth (DESIGN §1.6): never read by the guest model to decide anything.
    private final Map<Integer, Delivery> notPresentAwaitingWait = new HashMap<>();
    private final TokenLog recentTokens = new TokenLog();
    private boolean dead;
    private String deathReason;

    public Vcpu(int id, Settings settings, RandomGenerator rng, HostMemory memory, SleeperTable sleepers,
                Outbox out, long startNanos) {
        this.id = id;
        this.settings = settings;
        this.rng = rng;
        this.memory = memory;
        this.sleepers = sleepers;
        this.out = out;
        this.opCost = settings.engine().opCostNanos();
        var h = settings.host();
        this.host = new HostApf(h.era(), h.bugs(), h.fixes(), h.tokenIdStart(), id, this, counters);
        this.vcpus = settings.topology().vcpus();
        this.migrateAt = h.migrateAtNanos();
        if (settings.guest().lapicEnableDelayNanos() >= 0) {
            lapicEnableAt = startNanos + settings.guest().lapicEnableDelayNanos();
        }
        if (settings.guest().smi().intervalNanos() > 0) {
            nextSmi = startNanos + settings.guest().smi().intervalNanos();
        }
        timedEventsAt = earliest(nextSmi, lapicEnableAt, migrateAt);
        this.now = startNanos;
        this.nextTick = startNanos + settings.guest().tickPeriodNanos();
        this.nextExit = startNanos + settings.host().exitIntervalNanos();
        this.kernelPages = settings.guest().kernelPages();
        this.workingSet = settings.workload().workingSetPages();
        this.gfnBase = id * framesPerVcpu(settings);
        this.disableAt = settings.guest().apfDisable().appliesTo(id) ? settings.guest().apfDisable().atNanos() : -1;

        idle = new Task(-1, true);
        idle.stack.push(new Frame(Routine.IDLE));
        idle.stack.push(new Frame(Routine.BOOT));
        current = idle;
        int n = settings.guest().tasksPerVcpu();
        tasks = new Task[n];
        for (int i = 0; i < n; i++) {
            tasks[i] = new Task(i, false);
            startProcess(tasks[i]);
        }
    }

    /** Guest frames owned by each vCPU: its kernel pages, then each task's working set. */
    public static int framesPerVcpu(Settings s) {
        return s.guest().kernelPages() + s.guest().tasksPerVcpu() * s.workload().workingSetPages();
    }

    // ------------------------------------------------------------------ inputs

    /** An NMI asserted at virtual time {@code due}. */
    public void onNmi(long due, double userReadProbability) {
        nmiInputs.add(new Timed<>(due, inputSeq++, userReadProbability));
    }

    /** A paging worker completed {@code item} at virtual time {@code due}. */
    public void onWorkDone(WorkItem item, long due) {
        completions.add(new Timed<>(due, inputSeq++, item));
    }

    /**
     * host.bugs.page-ready-to-other-vcpu: another vCPU's host dequeued the page-ready of
     * {@code item} (one of its tokens) for this vCPU to deliver, at virtual time {@code due}.
     */
    public void onPageReadyFromVcpu(WorkItem item, long due) {
        completions.add(new Timed<>(due, inputSeq++, item));
    }

    /** A reschedule IPI from another vCPU that unhashed one of our waiters. */
    public void onRemoteWake(int task) {
        raiseIrq(VECTOR_RESCHED);
        if (task >= 0 && tasks[task].state == Task.State.SLEEPING) {
            makeRunnable(tasks[task]);
        }
    }

    // ------------------------------------------------------------------ the run loop

    /**
     * Runs boundaries until virtual time reaches {@code limit}, {@code budget} boundaries were
     * taken, or the guest died. Returns the number of boundaries taken.
     */
    public int run(long limit, int budget) {
        int steps = 0;
        while (!dead && now < limit && steps < budget) {
            acceptInputs();
            long toggle = apfToggleDue();
            if (toggle >= 0 && now >= toggle && !apfToggleKicked) {
                // The hotplug thread is woken: a reschedule IPI, which also ends an idle HLT.
                apfToggleKicked = true;
                raiseIrq(VECTOR_RESCHED);
            }
            if (now >= nextTick) {
                nextTick += settings.guest().tickPeriodNanos();
                raiseIrq(VECTOR_TIMER);
                watchdogs();
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
                    continue;
                }
                memory.makeResident(stallGfn);
                stallUntil = -1;
                events.add(now, TraceEvent.HOST_SYNC_FAULT_ENDS, stallGfn);
                exitPending = true;
            }
            if (exitPending) {
                exitPending = false;
                host.onEntry();
            }
            if (host.halted()) {
                if (host.hasDone() || eventDeliverable()) {
                    host.endSyntheticHalt();
                    host.onEntry();
                } else {
                    waitForInput(limit, VcpuTime.SYNTHETIC_HALT);
                    continue;
                }
            }
            if (deliverEvent()) {
                steps++;
                now += opCost;
                timeUse[VcpuTime.HANDLER.ordinal()] += opCost;
                continue;
            }
            if (hlt) {
                waitForInput(limit, VcpuTime.HALTED);
                continue;
            }
            // The STI shadow lasts through exactly the next micro-op (a fault in it still sees the shadow).
            boolean hadShadow = stiShadow;
            timeUse[current.top().routine.handler ? VcpuTime.HANDLER.ordinal() : VcpuTime.RUNNING.ordinal()] += opCost;
            execute();
            if (hadShadow) {
                stiShadow = false;
            }
            counters.inc(Counter.MICRO_OPS);
            steps++;
            now += opCost;
        }
        return steps;
    }

    /** SMIs, the LAPIC enable and migration, whichever are due. */
    private void timedEvents() {
        if (nextSmi >= 0 && now >= nextSmi) {
            nextSmi += settings.guest().smi().intervalNanos();
            smiPending = true;
        }
        if (lapicEnableAt >= 0 && now >= lapicEnableAt) {
            lapicEnableAt = -1;
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
        while (!nmiInputs.isEmpty() && nmiInputs.peek().due <= now) {
            nmiPendingUserRead = nmiInputs.poll().value;
            nmiPending = true;
        }
        while (!completions.isEmpty() && completions.peek().due <= now) {
            WorkItem item = completions.poll().value;
            boolean kick = item.vcpu() == id ? host.onWorkDone(item) : host.onForeignPageReady(item);
            if (kick || hlt || host.halted()) {
                exitPending = true;
            }
        }
    }

    /** Blocked with nothing deliverable: jump to the next moment something can change, counting the time as {@code use}. */
    private void waitForInput(long limit, VcpuTime use) {
        long before = now;
        waitForInput(limit);
        timeUse[use.ordinal()] += now - before;
    }

    private void waitForInput(long limit) {
        long t = Math.min(limit, nextTick);
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
        now = Math.max(now, t);
    }

    /** When the next guest.apf-disable step (disable or re-enable) is due here, -1 for never. */
    private long apfToggleDue() {
        return disableAt >= 0 ? disableAt : reenableAt;
    }

    /**
     * The next one-off event still to come on this vCPU (guest.apf-disable step, LAPIC enable,
     * migration), or {@link Long#MAX_VALUE}: while one is, the vCPU is not quiescent.
     */
    private long nextScheduled() {
        long t = Long.MAX_VALUE;
        if (apfToggleDue() >= 0 && !apfToggleKicked) {
            t = apfToggleDue();
        }
        return Math.min(t, earliest(lapicEnableAt, migrateAt));
    }

    // ------------------------------------------------------------------ delivery

    private boolean eventDeliverable() {
        return pendingException != null || (smiPending && !inSmm) || (!inSmm && ((nmiPending && !nmiBlocked)
                || (ifFlag && !stiShadow && irrAny())));
    }

    /** The #PF handler of the guest era (reference §2.1, §2.2; the designs check the error code). */
    private Routine pageFaultRoutine() {
        return switch (settings.guest().era()) {
            case LEGACY_EARLY -> Routine.PF_LEGACY_EARLY;
            case LEGACY -> Routine.PF_LEGACY;
            case USER_ONLY, INTERRUPT -> Routine.PF_INTERRUPT;
            case ERROR_CODE, VE -> Routine.PF_ERROR_CODE;
        };
    }

    private boolean deliverEvent() {
        if (pendingException != null) {
            Pending p = pendingException;
            pendingException = null;
            if (p.vector == VECTOR_DF) {
                panic("double fault");
                return true;
            }
            if (inSmm && p.delivery.isAsync()) {
                // Before 2022 the host injected with CR0.PG=0: SMM code has no handler for it [D].
                report(FindingKind.TRIPLE_FAULT, "async " + p.delivery + " injected while CR0.PG=0 (in SMM),"
                        + " where no guest handler exists: shutdown (§2.0 6.4, §4(v) 1)");
                dead = true;
                deathReason = "triple fault";
                return true;
            }
            if (p.vmExit) {
                // §2.4 step 3: the token is the exit qualification; L1's CR2 is not touched.
                Frame f = pushTrap(Routine.L1_PF_EXIT);
                f.delivery = p.delivery;
                f.addr = p.cr2;
                counters.inc(Counter.PF_VM_EXITS);
                events.add(now, TraceEvent.PF_VM_EXIT, p.cr2);
                return true;
            }
            if (p.vector == VECTOR_VE) {
                Frame f = pushTrap(Routine.VE);
                f.delivery = p.delivery;
                veInfo[Math.min(trapDepth(), veInfo.length - 1)] = p.errorCode;
                events.add(now, TraceEvent.DELIVER_VE, p.delivery.token & 0xFFFFFFFFL);
                return true;
            }
            cr2 = p.cr2;
            Frame f = pushTrap(pageFaultRoutine());
            f.delivery = p.delivery;
            f.errorCode = p.errorCode;
            events.add(now, p.delivery.isAsync() ? TraceEvent.DELIVER_ASYNC_PAGE_FAULT : TraceEvent.DELIVER_PAGE_FAULT, p.cr2);
            return true;
        }
        if (smiPending && !inSmm) {
            smiPending = false;
            pushTrap(Routine.SMM);
            events.add(now, TraceEvent.DELIVER_SMI, 0);
            return true;
        }
        if (inSmm) {
            // SMM blocks NMIs and interrupts until RSM.
            return false;
        }
        if (nmiPending && !nmiBlocked) {
            nmiPending = false;
            // Taken at delivery: a latched NMI must not change what the running handler does.
            nmiUserReadProbability = nmiPendingUserRead;
            nmiBlocked = true;
            counters.inc(Counter.NMIS_DELIVERED);
            pushTrap(Routine.NMI);
            events.add(now, TraceEvent.DELIVER_NMI, 2);
            return true;
        }
        if (ifFlag && !stiShadow && irrAny()) {
            int vector = irrHighest();
            irr[vector >>> 6] &= ~(1L << vector);
            Routine r = vector == VECTOR_TIMER ? Routine.TIMER_IRQ
                    : vector == VECTOR_RESCHED ? Routine.RESCHED_IRQ : Routine.PAGE_READY_IRQ;
            pushTrap(r);
            events.add(now, TraceEvent.DELIVER_IRQ, vector);
            return true;
        }
        return false;
    }

    private Frame pushTrap(Routine r) {
        Frame f = new Frame(r);
        Frame top = current.top();
        f.savedIf = ifFlag;
        // The CPL as the guest kernel sees what it interrupted (over L2: KVM's run loop, Routine.L2_GUEST).
        f.savedCpl = top == null ? 0 : top.cpl();
        f.interrupted = top;
        current.stack.push(f);
        ifFlag = false;
        hlt = false;
        return f;
    }

    private void iret() {
        Frame f = current.stack.pop();
        if (f.routine == Routine.NMI) {
            nmiNesting--;
        }
        ifFlag = f.savedIf;
        // Any IRET ends NMI blocking, also one returning from a #PF inside the NMI handler (§4(vii)).
        nmiBlocked = false;
        events.add(now, TraceEvent.IRET, f.routine.ordinal());
    }

    /** Trap frames on the current stack: the nesting level a delivery lands at (the #VE design's area index). */
    private int trapDepth() {
        int n = 0;
        for (Frame f : current.stack) {
            if (f.routine.trap) {
                n++;
            }
        }
        return n;
    }

    private void raiseException(long address, Delivery delivery) {
        raiseException(VECTOR_PF, address, 0, delivery, false);
    }

    /** Raises an exception; a second one while one is pending is #DF, a third a triple fault. */
    private void raiseException(int vector, long address, long errorCode, Delivery delivery, boolean vmExit) {
        if (pendingException == null) {
            pendingException = new Pending(vector, address, errorCode, delivery, vmExit);
        } else if (pendingException.vector == VECTOR_DF) {
            report(FindingKind.TRIPLE_FAULT, "#PF (" + delivery + ") while a double fault was pending: the guest is dead");
            dead = true;
            deathReason = "triple fault";
        } else {
            report(FindingKind.DOUBLE_FAULT, "#PF (" + delivery + ") while #PF (" + pendingException.delivery
                    + ") was pending delivery");
            pendingException = new Pending(VECTOR_DF, 0, 0, pendingException.delivery, false);
        }
    }

    private boolean irrAny() {
        return (irr[0] | irr[1] | irr[2] | irr[3]) != 0;
    }

    private int irrHighest() {
        for (int w = 3; w >= 0; w--) {
            if (irr[w] != 0) {
                return w * 64 + 63 - Long.numberOfLeadingZeros(irr[w]);
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ HostApf.CpuPort

    @Override
    public long now() {
        return now;
    }

    @Override
    public boolean interruptAllowed() {
        return ifFlag && !stiShadow;
    }

    @Override
    public boolean exceptionPending() {
        return pendingException != null;
    }

    @Override
    public boolean injectedExceptionPending() {
        return pendingException != null && pendingException.delivery.isAsync();
    }

    @Override
    public int cpl() {
        Frame top = current.top();
        if (top == null) {
            return 0;
        }
        return top.routine == Routine.L2_GUEST ? top.kind : top.cpl();
    }

    @Override
    public boolean guestMode() {
        Frame top = current.top();
        return top != null && top.routine == Routine.L2_GUEST;
    }

    @Override
    public void injectPageFault(long address, Delivery delivery) {
        if (delivery.kind == Delivery.Kind.NOT_PRESENT) {
            notPresentAwaitingWait.put(delivery.token, delivery);
        }
        boolean vmExit = guestMode();
        boolean notPresent = delivery.kind == Delivery.Kind.NOT_PRESENT;
        events.add(now, vmExit
                ? (notPresent ? TraceEvent.HOST_INJECT_NOT_PRESENT_VM_EXIT : TraceEvent.HOST_INJECT_PAGE_READY_VM_EXIT)
                : (notPresent ? TraceEvent.HOST_INJECT_NOT_PRESENT : TraceEvent.HOST_INJECT_PAGE_READY),
                delivery.token & 0xFFFFFFFFL);
        raiseException(VECTOR_PF, address, 0, delivery, vmExit);
    }

    @Override
    public void injectPageFault(long address, long errorCode, Delivery delivery) {
        notPresentAwaitingWait.put(delivery.token, delivery);
        events.add(now, TraceEvent.HOST_INJECT_NOT_PRESENT_ERROR_CODE, delivery.token & 0xFFFFFFFFL);
        raiseException(VECTOR_PF, address, errorCode, delivery, false);
    }

    @Override
    public void injectVirtualizationException(int reason, int token, Delivery delivery) {
        notPresentAwaitingWait.put(token, delivery);
        events.add(now, TraceEvent.HOST_INJECT_NOT_PRESENT_VE, token & 0xFFFFFFFFL);
        raiseException(VECTOR_VE, 0, ((long) reason << 32) | (token & 0xFFFFFFFFL), delivery, false);
    }

    @Override
    public void cancelPendingException() {
        if (pendingException != null) {
            notPresentAwaitingWait.remove(pendingException.delivery.token);
            events.add(now, TraceEvent.PENDING_PF_CANCELLED, pendingException.delivery.token & 0xFFFFFFFFL);
            pendingException = null;
        }
    }

    @Override
    public boolean pagingEnabled() {
        return !inSmm;
    }

    @Override
    public boolean lapicEnabled() {
        return lapicEnableAt < 0;
    }

    @Override
    public boolean pageReadyElsewhere(WorkItem item) {
        if (vcpus < 2) {
            return false;
        }
        out.pageReadyElsewhere((id + 1) % vcpus, item);
        return true;
    }

    @Override
    public void hostEvent(TraceEvent what, long arg) {
        events.add(now, what, arg);
    }

    @Override
    public void raiseIrq(int vector) {
        if (lapicEnableAt >= 0) {
            // A software-disabled LAPIC accepts no fixed interrupt (§4(v) 2).
            events.add(now, TraceEvent.LAPIC_DROPS_VECTOR, vector);
            return;
        }
        long bit = 1L << vector;
        if (vector == VECTOR_APF && (irr[vector >>> 6] & bit) != 0) {
            // A faithful host raises it only after the guest consumed the slot, i.e. after delivery.
            report(FindingKind.IRR_COALESCED_LOSS, "page-ready interrupt raised while the previous one was still"
                    + " pending in IRR: one delivery for two page-readies (§4(iv))");
        }
        irr[vector >>> 6] |= bit;
    }

    @Override
    public void hostFinding(FindingKind kind, String detail) {
        report(kind, detail);
    }

    @Override
    public void pageReadyOverwritten(int token) {
        pageReadyConsumed(token, "nobody: the host overwrote it in the token slot before the guest read it (§4(iv))");
    }

    @Override
    public void startWork(WorkItem item) {
        out.startWork(item);
    }

    @Override
    public void tokenCompleted(int token) {
        updateFate(token, TokenFate.of(TokenFate.State.QUEUED, now));
    }

    @Override
    public void pageReadySent(int token, boolean delivered) {
        TokenFate fate = TokenFate.of(delivered ? TokenFate.State.DELIVERED : TokenFate.State.SUPPRESSED, now);
        recentTokens.add(token, fate);
        updateFate(token, fate);
    }

    @Override
    public void latency(LatencyKind kind, long nanos) {
        latencies.record(kind, nanos);
    }

    @Override
    public void tokenFlushed(int token) {
        TokenFate fate = TokenFate.of(TokenFate.State.FLUSHED, now);
        recentTokens.add(token, fate);
        updateFate(token, fate);
    }

    // ------------------------------------------------------------------ micro-ops

    private void execute() {
        Frame f = current.top();
        switch (f.routine) {
            case USER, L2_GUEST -> user(f);
            case SYSCALL -> syscall(f);
            case BOOT -> boot(f);
            case APF_DISABLE -> apfDisable(f);
            case IDLE -> idleLoop(f);
            case PF_LEGACY_EARLY -> pfLegacyEarly(f);
            case PF_LEGACY -> pfLegacy(f);
            case PF_INTERRUPT -> pfInterrupt(f);
            case PF_ERROR_CODE -> pfErrorCode(f);
            case VE -> virtualizationException(f);
            case L1_PF_EXIT -> l1PageFaultExit(f);
            case SMM -> smm(f);
            case GENUINE_FAULT -> genuineFault(f);
            case WAIT -> asyncPfWait(f);
            case WAKE -> asyncPfWake(f);
            case PAGE_READY_IRQ -> pageReadyIrq(f);
            case TIMER_IRQ -> timerIrq(f);
            case RESCHED_IRQ -> reschedIrq(f);
            case NMI -> nmi(f);
        }
    }

    /**
     * A memory access: guest page tables first (a genuine #PF if not present), then host
     * residency (§2.0 if not resident). Returns true if the access retired.
     */
    private boolean access(long va, int gfn, boolean userPage, Frame f) {
        if (f.fixedUp) {
            f.fixedUp = false;
            return true;
        }
        if (userPage) {
            int page = (int) ((va - USER_BASE) / PAGE);
            if (!current.pageTables.present(page)) {
                counters.inc(Counter.GENUINE_PAGE_FAULTS);
                raiseException(va, new Delivery(Delivery.Kind.GENUINE, 0, va, now));
                return false;
            }
        }
        if (memory.resident(gfn)) {
            return true;
        }
        HostApf.Decision d = host.onNonResidentFault(gfn);
        if (d == HostApf.Decision.NOT_PRESENT_INJECTED) {
            // The EPT violation is a VM exit: the completion check runs before the entry that
            // delivers this #PF (§2.1). A halt or a stall runs it when it ends.
            exitPending = true;
        }
        events.add(now, d == HostApf.Decision.SYNCHRONOUS ? TraceEvent.HOST_SYNC_FAULT
                : d == HostApf.Decision.SYNTHETIC_HALT ? TraceEvent.HOST_SYNTHETIC_HALT : TraceEvent.HOST_ASYNC, gfn);
        if (d == HostApf.Decision.SYNCHRONOUS) {
            stallUntil = now + settings.host().swapIn().draw(rng);
            latencies.record(LatencyKind.SYNCHRONOUS_STALL, stallUntil - now);
            stallGfn = gfn;
        }
        return false;
    }

    private long userAddress(int page) {
        return USER_BASE + page * PAGE;
    }

    private int userGfn(Task t, long va) {
        return gfnBase + kernelPages + t.index * workingSet + (int) ((va - USER_BASE) / PAGE);
    }

    private int pickUserPage() {
        var w = settings.workload();
        if (w.pattern() == Settings.AccessPattern.HOT_COLD) {
            int hot = Math.max(1, (int) (workingSet * w.hotFraction()));
            if (rng.nextDouble() < w.hotProbability() || hot >= workingSet) {
                return rng.nextInt(hot);
            }
            return hot + rng.nextInt(workingSet - hot);
        }
        return rng.nextInt(workingSet);
    }

    /**
     * USER: pick a page (or enter a system call), access it, compute. L2_GUEST, an L2 vCPU thread
     * in guest mode (§2.4), runs the same loop over the VM's memory (the thread's working set):
     * L2's system calls stay inside L2 and only set its CPL, which the host's user-only rule
     * reads, and L1's page tables for L2 (EPT) are taken as populated, so only the host can fault.
     */
    private void user(Frame f) {
        var w = settings.workload();
        switch (f.pc) {
            case 0 -> {
                boolean syscall = rng.nextDouble() < w.syscallProbability();
                if (f.routine == Routine.L2_GUEST) {
                    f.kind = syscall ? 0 : 3;
                } else if (syscall) {
                    Frame sys = new Frame(Routine.SYSCALL);
                    double r = rng.nextDouble();
                    sys.kind = r < w.irqOffFraction() ? SYSCALL_IRQ_OFF
                            : r < w.irqOffFraction() + w.preemptOffFraction() ? SYSCALL_PREEMPT_OFF : SYSCALL_PREEMPTIBLE;
                    sys.count = w.syscallAccesses();
                    current.stack.push(sys);
                    return;
                }
                f.addr = userAddress(pickUserPage());
                f.count = w.computeOps();
                f.pc = 1;
            }
            case 1 -> {
                if (access(f.addr, userGfn(current, f.addr), f.routine == Routine.USER, f)) {
                    f.pc = f.count > 0 ? 2 : 0;
                }
            }
            default -> {
                if (--f.count <= 0) {
                    f.pc = 0;
                }
            }
        }
    }

    /** SYSCALL: kernel accesses, in a preemptible, preempt-disabled or IRQ-disabled section. */
    private void syscall(Frame f) {
        switch (f.pc) {
            case 0 -> f.pc = f.kind == SYSCALL_PREEMPTIBLE ? 2 : 1;
            case 1 -> {
                if (f.kind == SYSCALL_IRQ_OFF) {
                    ifFlag = false;
                } else {
                    current.preemptCount++;
                }
                f.pc = 2;
            }
            case 2 -> {
                boolean userPage = f.kind == SYSCALL_PREEMPTIBLE;
                if (!f.addrChosen) {
                    f.addrChosen = true;
                    f.addr = userPage ? userAddress(pickUserPage()) : rng.nextInt(kernelPages);
                }
                int gfn = userPage ? userGfn(current, f.addr) : gfnBase + (int) f.addr;
                if (access(f.addr, gfn, userPage, f)) {
                    f.addrChosen = false;
                    if (--f.count <= 0) {
                        f.pc = 3;
                    }
                }
            }
            case 3 -> {
                if (f.kind == SYSCALL_IRQ_OFF) {
                    sti();
                } else if (f.kind == SYSCALL_PREEMPT_OFF) {
                    current.preemptCount--;
                }
                f.pc = 4;
            }
            default -> current.stack.pop();
        }
    }

    /** BOOT: the guest's APF enable at CPU bring-up (§2.1 and §2.2 "Guest enable"). */
    private void boot(Frame f) {
        var g = settings.guest();
        switch (f.pc) {
            case 0 -> {
                f.pc = 1;
                boolean wants = g.asyncPf() && switch (g.era()) {
                    case LEGACY_EARLY, LEGACY, USER_ONLY -> true;
                    case INTERRUPT -> host.cpuidAsyncPfInt();
                    case ERROR_CODE -> host.cpuidNotPresentInErrorCode();
                    case VE -> host.cpuidDeliveryAsVe();
                };
                if (!wants) {
                    f.pc = 3;
                } else if (!g.era().pageReadyAsPageFault()) {
                    wrmsr(HostApf.MSR_ASYNC_PF_INT, VECTOR_APF);
                }
            }
            case 1 -> {
                long en = HostApf.EN_ENABLED | switch (g.era()) {
                    case LEGACY_EARLY, LEGACY -> g.preempt() ? HostApf.EN_SEND_ALWAYS : 0;
                    case USER_ONLY -> 0;
                    case INTERRUPT -> HostApf.EN_DELIVERY_AS_INT;
                    case ERROR_CODE -> HostApf.EN_DELIVERY_AS_INT | HostApf.EN_NOT_PRESENT_IN_ERROR_CODE;
                    case VE -> HostApf.EN_DELIVERY_AS_INT | HostApf.EN_DELIVERY_AS_VE;
                };
                // As Linux from 4.14, whenever CPUID has bit 10 (§2.1 step 3); the designs define no L1 delivery.
                if (g.nested().deliveryAsPfVmexit() && host.cpuidAsyncPfVmexit()
                        && g.era() != GuestEra.ERROR_CODE && g.era() != GuestEra.VE) {
                    en |= HostApf.EN_DELIVERY_AS_PF_VMEXIT;
                }
                wrmsr(HostApf.MSR_ASYNC_PF_EN, en);
                f.pc = 2;
            }
            case 2 -> {
                guestApfEnabled = true;
                f.pc = 3;
            }
            default -> current.stack.pop();
        }
    }

    /**
     * APF_DISABLE: {@code kvm_guest_cpu_offline} (reference §4(v) "CPU offline"):
     * {@code kvm_pv_disable_apf()} (nothing if APF is not on; else WRMSR EN=0, which makes the
     * host flush its queue, §2.5, then {@code enabled := 0}), then {@code apf_task_wake_all()},
     * which wakes every sleeper of this CPU because the host will send nothing more for them.
     * With {@code guest.apf-disable.wake-all = off} that step is left out and they sleep forever.
     *
     * <p>Where it runs: Linux runs it from the hotplug thread with IRQs off. The model runs it
     * from the idle task at its schedule point (CLI, run-queue check), which the thread's
     * wake-up IPI reaches at once when the CPU idles. So the disable never cuts into a running
     * task: it happens at the first idle pass at or after {@code at}, when every task of the
     * vCPU is asleep or gone, which is exactly when the lost wakeup can bite. The re-enable is
     * {@link #boot} again, run from the same place.
     */
    private void apfDisable(Frame f) {
        var d = settings.guest().apfDisable();
        switch (f.pc) {
            case 0 -> {
                if (guestApfEnabled) {
                    wrmsr(HostApf.MSR_ASYNC_PF_EN, 0);
                    events.add(now, TraceEvent.GUEST_DISABLES_APF, 0);
                    f.pc = 1;
                } else {
                    f.pc = 2;
                }
            }
            case 1 -> {
                guestApfEnabled = false;
                f.pc = 2;
            }
            case 2 -> {
                if (d.reenableAfterNanos() >= 0) {
                    reenableAt = now + d.reenableAfterNanos();
                }
                f.pc = 3;
                if (d.wakeAll()) {
                    callWake(HostApf.WAKE_ALL_TOKEN);
                }
            }
            default -> current.stack.pop();
        }
    }

    private void wrmsr(long msr, long value) {
        host.wrmsr(msr, value);
        exitPending = true;
    }

    /** IDLE: {@code CLI; if (need_resched) schedule(); STI; HLT} forever. */
    private void idleLoop(Frame f) {
        switch (f.pc) {
            case 0 -> {
                ifFlag = false;
                f.pc = 1;
            }
            case 1 -> {
                // The workload starts once the CPU has been up and idle with IRQs on (one HLT
                // exit), as in Linux where APF is enabled at bring-up long before user tasks
                // run: by then the enable's wake-all has been delivered.
                if (!tasksStarted && idleHalts > 0) {
                    tasksStarted = true;
                    for (Task t : tasks) {
                        makeRunnable(t);
                    }
                }
                // guest.apf-disable: the idle task at a schedule point stands in for the
                // hotplug thread, which would run here on a CPU whose tasks all sleep.
                if (disableAt >= 0 && now >= disableAt) {
                    disableAt = -1;
                    apfToggleKicked = false;
                    current.stack.push(new Frame(Routine.APF_DISABLE));
                    return;
                }
                if (reenableAt >= 0 && now >= reenableAt) {
                    reenableAt = -1;
                    apfToggleKicked = false;
                    events.add(now, TraceEvent.GUEST_ENABLES_APF_AGAIN, 0);
                    current.stack.push(new Frame(Routine.BOOT));
                    return;
                }
                f.pc = runQueue.isEmpty() ? 2 : 4;
            }
            case 2 -> {
                sti();
                f.pc = 3;
            }
            case 3 -> {
                haltInstruction();
                idleHalts++;
                f.pc = 0;
            }
            default -> {
                f.pc = 0;
                schedule();
            }
        }
    }

    private void sti() {
        if (!ifFlag) {
            stiShadow = true;
        }
        ifFlag = true;
    }

    private void haltInstruction() {
        hlt = true;
        exitPending = true;
        events.add(now, TraceEvent.HLT, current.index);
    }

    /**
     * PF_LEGACY_EARLY: the ≤5.2 (GL-a) path (§4(i) "Second window"): the entry code's
     * instrumentation runs first, the C handler reads the reason word, then
     * {@code exception_enter} (instrumented again) and only then {@code read_cr2()}. A #PF taken
     * at the first point consumes the reason word; one at the second overwrites CR2, so the
     * task waits on the wrong token (behaviour 21).
     */
    private void pfLegacyEarly(Frame f) {
        switch (f.pc) {
            case 0 -> {
                if (readWordAfterInstrumentation(f, 1)) {
                    f.pc = 1;
                }
            }
            case 1 -> {
                if (!entryFaults(f, 2)) {
                    f.addr = cr2;
                    if (f.delivery.isAsync() && f.count != 0 && cr2 != f.delivery.address) {
                        report(FindingKind.CR2_CLOBBERED, "#PF handler serving " + f.delivery + " read CR2 = 0x"
                                + Long.toHexString(cr2) + " after a #PF in its own entry code overwrote it:"
                                + " it acts on token 0x" + Integer.toHexString((int) cr2) + " (§4(i) second window)");
                    }
                    f.pc = 2;
                }
            }
            case 2 -> {
                f.pc = 3;
                dispatchLegacy(f);
            }
            default -> iret();
        }
    }

    /**
     * PF_LEGACY: the 5.3–5.7 {@code async_page_fault} path (§2.1 "Guest #PF handler", GL-b):
     * CR2 captured in the entry code, then (after the instrumented entry work) the reason word
     * read and cleared, then dispatch.
     */
    private void pfLegacy(Frame f) {
        switch (f.pc) {
            case 0 -> {
                f.addr = cr2;
                f.pc = 1;
            }
            case 1 -> {
                if (readWordAfterInstrumentation(f, 1)) {
                    f.pc = 2;
                }
            }
            case 2 -> {
                f.pc = 3;
                dispatchLegacy(f);
            }
            default -> iret();
        }
    }

    /**
     * An instrumented point (see {@link #entryFaults}), then the read and clear of the APF word
     * into {@code f.count}. False if the point faulted: the read waits for the retry.
     */
    private boolean readWordAfterInstrumentation(Frame f, int point) {
        if (entryFaults(f, point)) {
            return false;
        }
        f.count = readAndClearWord(f);
        return true;
    }

    /** Tracing's recursion guard: a #PF taken inside another #PF handler's entry does not trace again. */
    private boolean nestedInPageFaultEntry(Frame f) {
        for (Frame x : current.stack) {
            if (x != f && (x.routine == Routine.PF_LEGACY || x.routine == Routine.PF_LEGACY_EARLY)) {
                return true;
            }
        }
        return false;
    }

    /** The legacy handler's dispatch on the reason it read: 1 wait, 2 wake, else a genuine fault. */
    private void dispatchLegacy(Frame f) {
        int token = (int) f.addr;
        if (f.count == ApfArea.REASON_PAGE_NOT_PRESENT) {
            callWait(token, false, f.savedCpl == 0, f);
        } else if (f.count == ApfArea.REASON_PAGE_READY) {
            callWake(token);
        } else {
            callGenuine(f);
        }
    }

    /**
     * An instrumented point (tracing, context tracking) of a legacy guest's #PF entry, or of
     * KVM-as-L1's code between a #PF VM exit and its read of the APF word (hazard xiv, any era):
     * with guest.entry-fault-probability it touches a vmalloc'd buffer not yet mapped and takes a
     * genuine #PF there, before the micro-op retires (it runs again after the nested handler).
     * 5.8 and later make the #PF entry noinstr, so their handlers never get here. Returns true if
     * it faulted.
     */
    private boolean entryFaults(Frame f, int point) {
        double p = settings.guest().entryFaultProbability();
        if (p <= 0 || (f.traced & point) != 0 || nestedInPageFaultEntry(f)) {
            return false;
        }
        f.traced |= point;
        if (rng.nextDouble() >= p) {
            return false;
        }
        counters.inc(Counter.GENUINE_PAGE_FAULTS);
        events.add(now, TraceEvent.ENTRY_INSTRUMENTATION_FAULT, TRACE_BUFFER);
        raiseException(TRACE_BUFFER, new Delivery(Delivery.Kind.GENUINE, 0, TRACE_BUFFER, now));
        return true;
    }

    /**
     * PF_INTERRUPT: ≥5.9 {@code exc_page_fault} (§2.2 "Guest #PF"): CR2 first, then
     * {@code kvm_read_and_reset_apf_flags}; a non-zero value with IF=0 in the interrupted
     * context or in kernel mode panics.
     */
    private void pfInterrupt(Frame f) {
        switch (f.pc) {
            case 0 -> {
                f.addr = cr2;
                f.pc = 1;
            }
            case 1 -> {
                f.count = readAndClearWord(f);
                f.pc = 2;
            }
            case 2 -> {
                if (f.count == 0) {
                    f.pc = 4;
                    callGenuine(f);
                } else if (!f.savedIf) {
                    panic(PANIC_IF_OFF);
                } else if ((f.count & ApfArea.REASON_PAGE_NOT_PRESENT) == 0) {
                    f.pc = 4;
                    if (f.count == ApfArea.REASON_PAGE_READY && settings.guest().era() == GuestEra.USER_ONLY) {
                        // 5.8: page-ready still arrives as a #PF with reason 2 (§2.6 HL + G58).
                        callWake((int) f.addr);
                    }
                } else if (f.savedCpl != 3) {
                    panic(PANIC_KERNEL_MODE);
                } else {
                    f.pc = 3;
                }
            }
            case 3 -> {
                f.pc = 4;
                callWait((int) f.addr, true, false, f);
            }
            default -> iret();
        }
    }

    /**
     * PF_ERROR_CODE: the error-code design's #PF handler (§3, Sean's May 2020 suggestion): CR2
     * captured first, then the error code, which the CPU pushed on this delivery's own exception
     * frame, tells an async not-present from a genuine fault. Nothing is shared, so a nested
     * fault cannot take it; the IF=0 and kernel-mode rules of 5.9 stay.
     */
    private void pfErrorCode(Frame f) {
        switch (f.pc) {
            case 0 -> {
                f.addr = cr2;
                f.pc = 1;
            }
            case 1 -> {
                if (f.errorCode != HostApf.ERROR_CODE_ASYNC_NOT_PRESENT) {
                    f.pc = 3;
                    callGenuine(f);
                } else {
                    f.pc = asyncNotPresentAllowed(f) ? 2 : 3;
                }
            }
            case 2 -> {
                f.pc = 3;
                callWait((int) f.addr, true, false, f);
            }
            default -> iret();
        }
    }

    /**
     * VE: the #VE design's handler (§3, the plan of the 2020 series): the CPU stored the reason
     * and token in the information area of the nesting level the exception was delivered at; the
     * handler reads and clears its own level's area. A nested event uses the next level's area,
     * and genuine #PFs never touch it.
     */
    private void virtualizationException(Frame f) {
        switch (f.pc) {
            case 0 -> {
                int level = Math.min(trapDepth(), veInfo.length - 1);
                long info = veInfo[level];
                veInfo[level] = 0;
                f.count = (int) (info >>> 32);
                f.addr = info & 0xFFFFFFFFL;
                f.pc = 1;
            }
            case 1 -> f.pc = f.count == ApfArea.REASON_PAGE_NOT_PRESENT && asyncNotPresentAllowed(f) ? 2 : 3;
            case 2 -> {
                f.pc = 3;
                callWait((int) f.addr, true, false, f);
            }
            default -> iret();
        }
    }

    /**
     * L1_PF_EXIT: KVM as L1 after a #PF VM exit that L0 made for an async #PF in L2 (§2.4 steps
     * 4–6; {@code kvm_handle_page_fault}). With IRQs still off from the exit, and after
     * instrumented code (hazard xiv), it reads and clears its own APF word into
     * {@code host_apf_flags}; it re-enables IRQs, so a page-ready interrupt may arrive before the
     * wait and leave a dummy (the path Sean's 2022 analysis keeps reachable, step 6); then with
     * IRQs off it waits on the token from the exit qualification (reason 1), so this vCPU thread
     * sleeps while L1 runs others, or, for a guest that takes page-ready over #PF, wakes it
     * (reason 2). Any other value is the MMU's business (0) or a WARN. IRQs on, and the VM entry
     * retries L2's access.
     */
    private void l1PageFaultExit(Frame f) {
        switch (f.pc) {
            case 0 -> {
                if (readWordAfterInstrumentation(f, 1)) {
                    f.pc = 1;
                }
            }
            case 1 -> {
                sti();
                f.kind = L1_EXIT_DISPATCH_OPS;
                f.pc = 2;
            }
            case 2 -> {
                if (--f.kind <= 0) {
                    f.pc = 3;
                }
            }
            case 3 -> {
                boolean wake = f.count == ApfArea.REASON_PAGE_READY && settings.guest().era().pageReadyAsPageFault();
                if (f.count == ApfArea.REASON_PAGE_NOT_PRESENT || wake) {
                    ifFlag = false;
                    f.pc = wake ? 5 : 4;
                } else {
                    f.pc = 7;
                }
            }
            case 4 -> {
                f.pc = 6;
                callWait((int) f.addr, !settings.guest().era().legacy(), false, f);
            }
            case 5 -> {
                f.pc = 6;
                callWake((int) f.addr);
            }
            case 6 -> {
                sti();
                f.pc = 7;
            }
            default -> {
                Frame exit = current.stack.pop();
                ifFlag = exit.savedIf;
                events.add(now, TraceEvent.VM_ENTRY_TO_L2, 0);
            }
        }
    }

    /** The 5.9 rules for an async not-present, kept by both designs: panic with IF=0 or in kernel mode. */
    private boolean asyncNotPresentAllowed(Frame f) {
        if (!f.savedIf) {
            panic(PANIC_IF_OFF);
            return false;
        }
        if (f.savedCpl != 3) {
            panic(PANIC_KERNEL_MODE);
            return false;
        }
        return true;
    }

    /**
     * SMM: an SMI's handler (guest.smi, §4(v) 1). SMM entry clears CR0.PG, which the host sees
     * (before 2025 it flushed the APF queue); the handler touches one guest frame, which may take
     * a host fault while paging is off (from 2022 no not-present is injected then); RSM sets
     * CR0.PG again and restores the NMI blocking of before.
     */
    private void smm(Frame f) {
        switch (f.pc) {
            case 0 -> {
                inSmm = true;
                f.kind = nmiBlocked ? 1 : 0;
                events.add(now, TraceEvent.SMM_ENTRY, 0);
                host.onPagingChanged(false);
                exitPending = true;
                f.count = settings.guest().smi().handlerOps();
                f.pc = 1;
            }
            case 1 -> {
                if (!f.addrChosen) {
                    f.addrChosen = true;
                    f.addr = rng.nextInt(kernelPages);
                }
                if (access(f.addr, gfnBase + (int) f.addr, false, f)) {
                    f.addrChosen = false;
                    f.pc = 2;
                }
            }
            case 2 -> {
                if (--f.count <= 0) {
                    f.pc = 3;
                }
            }
            default -> {
                inSmm = false;
                events.add(now, TraceEvent.RSM, 0);
                host.onPagingChanged(true);
                exitPending = true;
                boolean blocked = f.kind == 1;
                iret();
                nmiBlocked = blocked;
            }
        }
    }

    /**
     * The guest reads and clears the reason/flags word. Ground truth: a non-zero value written
     * for another delivery is stolen (§4(i) step 5); an async delivery that finds 0 will be
     * handled as a genuine fault at its token.
     */
    private int readAndClearWord(Frame f) {
        if (!guestApfEnabled) {
            return 0;
        }
        ApfArea area = host.area();
        Delivery owner = area.wordOwner();
        int v = area.readAndClearWord();
        events.add(now, TraceEvent.READ_CLEAR_APF_WORD, v);
        if (v != 0 && owner != f.delivery) {
            owner.stolen = true;
            report(FindingKind.APF_WORD_STOLEN, "#PF handler serving " + f.delivery
                    + (nmiNesting > 0 ? " inside an NMI handler" : "") + " consumed word " + v
                    + " written for " + owner);
            if (owner.kind == Delivery.Kind.NOT_PRESENT) {
                notPresentAwaitingWait.remove(owner.token);
            } else if (owner.kind == Delivery.Kind.PAGE_READY) {
                pageReadyConsumed(owner.token, "the #PF handler serving " + f.delivery
                        + (nmiNesting > 0 ? " inside an NMI handler" : "") + " (§4(i))");
                for (Task t : tasks) {
                    if (t.state == Task.State.SLEEPING && t.sleepToken == owner.token) {
                        report(FindingKind.LOST_WAKEUP, "task " + t.index + " sleeps on token 0x"
                                + Integer.toHexString(owner.token) + " whose page-ready was consumed by another handler");
                    }
                }
            }
        } else if (v == 0 && f.delivery.isAsync()) {
            report(FindingKind.SPURIOUS_FAULT_AT_TOKEN, "handler of " + f.delivery
                    + " found the APF word 0 and treats it as a genuine fault at 0x" + Long.toHexString(f.addr));
        }
        return v;
    }

    /**
     * A spin on a bucket lock that this very CPU holds, lower on its own stack, never ends: a
     * nested wake or wait interrupted the code that holds it (§4(ii) counterfactual 2, a host
     * that injects with IF=0). Reported once per spinning frame.
     */
    private void checkSelfDeadlock(Frame f, int bucket) {
        if (!f.deadlockReported && sleepers.owner(bucket) == id) {
            f.deadlockReported = true;
            report(FindingKind.SELF_DEADLOCK, f.routine + " spins on sleeper bucket " + bucket
                    + " whose lock this vCPU already holds, lower on its own stack: it never ends (§4(ii))");
        }
    }

    private void callGenuine(Frame trap) {
        Frame g = new Frame(Routine.GENUINE_FAULT);
        g.addr = trap.addr;
        g.savedIf = trap.savedIf;
        g.savedCpl = trap.savedCpl;
        g.interrupted = trap.interrupted;
        current.stack.push(g);
    }

    private void callWait(int token, boolean scheduleFlavour, boolean interruptedKernel, Frame trap) {
        Frame w = new Frame(Routine.WAIT);
        // Ground truth: a context that must not sleep (a guest that schedules here is broken).
        w.atomic = !trap.savedIf || current.preemptCount > 0 || nmiNesting > 0 || irqNesting > 0;
        w.token = token;
        w.bucket = SleeperTable.bucket(token);
        w.scheduleFlavour = scheduleFlavour;
        // 4.19 and 5.3–5.7: halt instead of schedule in the idle task, or where scheduling is
        // impossible (PREEMPT: preempt_count > 1 with the bucket lock held; else kernel mode).
        w.halted = !scheduleFlavour && (current.idle || (settings.guest().preempt()
                ? current.preemptCount > 0 || nmiNesting > 0 || irqNesting > 0
                : interruptedKernel));
        current.stack.push(w);
    }

    private void callWake(int token) {
        Frame w = new Frame(Routine.WAKE);
        w.token = token;
        w.bucket = SleeperTable.bucket(token);
        current.stack.push(w);
    }

    /**
     * GENUINE_FAULT: {@code do_page_fault}. A user address in the task's working set is mapped
     * (with IRQs re-enabled if they were on), unless page faults are disabled (inside an NMI),
     * where the exception fixup makes the access fail. Any other address: SIGSEGV for user
     * mode, fixup for a uaccess, otherwise an oops.
     */
    private void genuineFault(Frame f) {
        switch (f.pc) {
            case 0 -> {
                long va = f.addr;
                boolean inWorkingSet = !current.idle && va >= USER_BASE && va < USER_BASE + workingSet * PAGE;
                boolean uaccess = f.interrupted != null && (f.interrupted.routine == Routine.NMI
                        || (f.interrupted.routine == Routine.SYSCALL && f.interrupted.kind == SYSCALL_PREEMPTIBLE));
                if (va == TRACE_BUFFER) {
                    // vmalloc_fault: the kernel buffer's page-table entry is synced; IF stays as it is.
                    f.kind = GENUINE_VMALLOC;
                    f.count = settings.guest().mmFaultOps();
                    f.pc = 1;
                } else if (inWorkingSet && nmiNesting == 0) {
                    if (f.savedIf) {
                        ifFlag = true;
                    }
                    f.count = settings.guest().mmFaultOps();
                    f.pc = 1;
                } else if (f.savedCpl == 3) {
                    killCurrentTask(va);
                } else if (uaccess) {
                    f.interrupted.fixedUp = true;
                    current.stack.pop();
                } else {
                    panic("BUG: unable to handle page fault for address: 0x" + Long.toHexString(va));
                }
            }
            case 1 -> {
                if (--f.count <= 0) {
                    f.pc = 2;
                }
            }
            case 2 -> {
                if (f.kind != GENUINE_VMALLOC) {
                    current.pageTables.map((int) ((f.addr - USER_BASE) / PAGE));
                }
                f.pc = 3;
            }
            default -> {
                if (f.kind != GENUINE_VMALLOC) {
                    ifFlag = false;
                }
                current.stack.pop();
            }
        }
    }

    /** SIGSEGV: the process dies and a fresh one takes its place on the same task slot. */
    private void killCurrentTask(long va) {
        counters.inc(Counter.TASKS_KILLED);
        events.add(now, TraceEvent.SIGSEGV, va);
        Task t = current;
        t.stack.clear();
        startProcess(t);
        ifFlag = true;
    }

    private void startProcess(Task t) {
        t.pageTables = new GuestPageTables(workingSet, settings.workload().mappedPages());
        t.stack.push(new Frame(t.index < settings.guest().nested().l2VcpuThreads() ? Routine.L2_GUEST : Routine.USER));
        t.savedIf = true;
        t.preemptCount = 0;
    }

    /**
     * WAIT: {@code kvm_async_pf_task_wait} (§2.1 "Guest wait") or, for ≥5.9,
     * {@code kvm_async_pf_task_wait_schedule} (§2.2). Lock the bucket; a node with the token
     * is a dummy from an earlier wake: free it and return. Otherwise insert a node and loop
     * until it is unhashed, sleeping in the scheduler or halting with STI;HLT.
     */
    private void asyncPfWait(Frame f) {
        switch (f.pc) {
            case 0 -> {
                if (sleepers.tryLock(f.bucket, id)) {
                    f.pc = 1;
                } else {
                    checkSelfDeadlock(f, f.bucket);
                }
            }
            case 1 -> {
                SleeperNode dummy = sleepers.find(f.bucket, f.token);
                notPresentAwaitingWait.remove(f.token);
                if (dummy != null) {
                    sleepers.unlink(f.bucket, dummy);
                    events.add(now, TraceEvent.WAIT_FOUND_DUMMY, f.token & 0xFFFFFFFFL);
                } else {
                    f.node = SleeperNode.waiter(f.token, id, current.index, f.halted, now);
                    sleepers.insert(f.bucket, f.node);
                    f.since = now;
                    f.fate = fateAtWait(f.token);
                    counters.inc(Counter.TASKS_SLEPT);
                    events.add(now, f.halted ? TraceEvent.WAIT_HALT : TraceEvent.WAIT_SLEEP, f.token & 0xFFFFFFFFL);
                    if (f.fate.consumedBy() != null) {
                        report(FindingKind.LOST_WAKEUP, "task " + current.index + " waits on token 0x"
                                + Integer.toHexString(f.token) + " whose page-ready was already consumed elsewhere");
                    }
                }
                f.pc = 2;
            }
            case 2 -> {
                sleepers.unlock(f.bucket, id);
                if (f.node == null) {
                    current.stack.pop();
                } else {
                    f.pc = 3;
                }
            }
            case 3 -> {
                if (!f.halted && !current.idle) {
                    current.state = Task.State.SLEEPING;
                    current.sleepSince = f.since;
                    current.sleepToken = f.token;
                }
                f.pc = 4;
            }
            case 4 -> f.pc = f.node.hashed() ? 5 : 8;
            case 5 -> {
                sti();
                f.pc = 6;
            }
            case 6 -> {
                f.pc = 7;
                if (f.halted || current.idle) {
                    haltInstruction();
                } else {
                    if (f.atomic) {
                        f.atomic = false;
                        report(FindingKind.SLEEP_IN_ATOMIC, "task " + current.index + " schedules away to wait on token 0x"
                                + Integer.toHexString(f.token) + " from a context that must not sleep (IRQs or preemption"
                                + " off, or IRQ/NMI context): BUG: scheduling while atomic");
                    }
                    schedule();
                }
            }
            case 7 -> {
                ifFlag = false;
                f.pc = 3;
            }
            default -> {
                current.state = Task.State.RUNNABLE;
                current.hungReported = false;
                counters.inc(Counter.TASKS_WOKEN);
                latencies.record(LatencyKind.TASK_SLEEP, now - f.since);
                events.add(now, TraceEvent.WAIT_DONE, f.token & 0xFFFFFFFFL);
                current.stack.pop();
            }
        }
    }

    /**
     * WAKE: {@code kvm_async_pf_task_wake} (§2.1 "Guest wake"). Wake-all walks every bucket and
     * unhashes this CPU's nodes (a dummy unlinked this way is leaked, §4(iii)-B). Otherwise a
     * node with the token is unhashed and woken; with none, a dummy is left for the waiter.
     */
    private void asyncPfWake(Frame f) {
        boolean all = f.token == HostApf.WAKE_ALL_TOKEN;
        switch (f.pc) {
            case 0 -> {
                int bucket = all ? f.count : f.bucket;
                if (sleepers.tryLock(bucket, id)) {
                    f.pc = 1;
                } else {
                    checkSelfDeadlock(f, bucket);
                }
            }
            case 1 -> {
                if (all) {
                    for (SleeperNode n : sleepers.nodesOf(f.count, id)) {
                        sleepers.unlink(f.count, n);
                        if (n.isDummy()) {
                            report(FindingKind.DUMMY_LEAK, "wake-all unlinked the dummy for token 0x"
                                    + Integer.toHexString(n.token) + " without freeing it");
                        } else {
                            wakeNode(n);
                        }
                    }
                } else {
                    SleeperNode n = sleepers.find(f.bucket, f.token);
                    if (n != null) {
                        sleepers.unlink(f.bucket, n);
                        wakeNode(n);
                    } else {
                        sleepers.insert(f.bucket, SleeperNode.dummy(f.token, id, now));
                        counters.inc(Counter.DUMMIES_CREATED);
                        events.add(now, TraceEvent.WAKE_LEFT_DUMMY, f.token & 0xFFFFFFFFL);
                        // A token of another vCPU (page-ready delivered elsewhere) is that vCPU's to wait for.
                        if ((f.token & 0xFFF) == id && !notPresentAwaitingWait.containsKey(f.token)) {
                            report(FindingKind.DUMMY_LEAK, "dummy for token 0x" + Integer.toHexString(f.token)
                                    + " that no task will ever wait for");
                        }
                    }
                }
                f.pc = 2;
            }
            default -> {
                sleepers.unlock(all ? f.count : f.bucket, id);
                if (all && ++f.count < SleeperTable.BUCKETS) {
                    f.pc = 0;
                } else {
                    current.stack.pop();
                }
            }
        }
    }

    private void wakeNode(SleeperNode n) {
        events.add(now, TraceEvent.WAKE, n.token & 0xFFFFFFFFL);
        if (n.cpu != id) {
            out.remoteWake(n.cpu, n.task);
        } else if (n.halted || n.task < 0) {
            raiseIrq(VECTOR_RESCHED);
        } else if (tasks[n.task].state == Task.State.SLEEPING) {
            makeRunnable(tasks[n.task]);
        }
    }

    /** PAGE_READY_IRQ: EOI; t = token; wake(t); token := 0; WRMSR ACK (§2.2, slot before ACK). */
    private void pageReadyIrq(Frame f) {
        switch (f.pc) {
            case 0 -> {
                irqNesting++;
                f.pc = guestApfEnabled ? 1 : 4;
                if (!guestApfEnabled && host.area().token() != 0) {
                    pageReadyConsumed(host.area().token(),
                            "the page-ready interrupt handler, which ignored it as the guest had disabled APF (§4(v))");
                }
            }
            case 1 -> {
                f.token = host.area().token();
                events.add(now, TraceEvent.READ_TOKEN_SLOT, f.token & 0xFFFFFFFFL);
                f.pc = 2;
            }
            case 2 -> {
                f.pc = 3;
                callWake(f.token);
            }
            case 3 -> {
                if (settings.guest().bugs().ackBeforeClear()) {
                    // guest.bugs.ack-before-clear (§4(iv) corner): the ACK, then the clear.
                    wrmsr(HostApf.MSR_ASYNC_PF_ACK, 1);
                    f.pc = 5;
                } else {
                    host.area().clearToken();
                    f.pc = 4;
                }
            }
            case 4 -> {
                if (guestApfEnabled) {
                    wrmsr(HostApf.MSR_ASYNC_PF_ACK, 1);
                }
                f.pc = 6;
            }
            case 5 -> {
                host.area().clearToken();
                f.pc = 6;
            }
            default -> irqExit(f);
        }
    }

    private void timerIrq(Frame f) {
        if (f.pc == 0) {
            irqNesting++;
            if (now - current.sliceStart >= settings.guest().timesliceNanos() && !runQueue.isEmpty()) {
                needResched = true;
            }
            f.pc = 1;
        } else {
            irqExit(f);
        }
    }

    private void reschedIrq(Frame f) {
        if (f.pc == 0) {
            irqNesting++;
            needResched = true;
            f.pc = 1;
        } else {
            irqExit(f);
        }
    }

    /** {@code irq_exit}, then preemption on the way back to a preemptible context, then IRET. */
    private void irqExit(Frame f) {
        if (f.pc != PC_IRQ_IRET) {
            irqNesting--;
            f.pc = PC_IRQ_IRET;
            boolean preemptible = !current.idle && nmiNesting == 0 && irqNesting == 0 && (f.savedCpl == 3
                    || (settings.guest().preempt() && f.savedIf && current.preemptCount == 0));
            if (needResched && preemptible && !runQueue.isEmpty()) {
                needResched = false;
                Task prev = current;
                switchTo(runQueue.poll());
                makeRunnable(prev);
            }
            return;
        }
        iret();
    }

    /**
     * NMI: {@code exc_nmi} with {@code nmi_state} (§1.7, §4(vii)): a second NMI while one runs
     * (possible after an IRET inside the handler) is latched and makes the first one run again.
     * The handler saves CR2 and restores it at exit if it changed; perf may read user memory
     * with page faults disabled, which can take a genuine guest #PF.
     */
    private void nmi(Frame f) {
        switch (f.pc) {
            case 0 -> {
                nmiNesting++;
                if (nmiState != NMI_NOT_RUNNING) {
                    report(FindingKind.NESTED_NMI, "NMI delivered while the NMI handler still ran: an IRET inside it"
                            + " re-opened NMIs (§4(vii)); latched, the handler runs once more");
                    nmiState = NMI_LATCHED;
                    f.pc = 4;
                } else {
                    nmiState = NMI_EXECUTING;
                    nmiCr2 = cr2;
                    nmiSince = now;
                    f.pc = 1;
                }
            }
            case 1 -> f.pc = !current.idle && rng.nextDouble() < nmiUserReadProbability ? 2 : 3;
            case 2 -> {
                if (!f.addrChosen) {
                    f.addrChosen = true;
                    f.addr = userAddress(rng.nextInt(workingSet));
                }
                if (access(f.addr, userGfn(current, f.addr), true, f)) {
                    f.addrChosen = false;
                    f.pc = 3;
                }
            }
            case 3 -> {
                if (cr2 != nmiCr2) {
                    cr2 = nmiCr2;
                }
                if (nmiState == NMI_LATCHED) {
                    nmiState = NMI_EXECUTING;
                    f.pc = 1;
                } else {
                    nmiState = NMI_NOT_RUNNING;
                    latencies.record(LatencyKind.NMI_HANDLER, now - nmiSince);
                    f.pc = 4;
                }
            }
            default -> iret();
        }
    }

    // ------------------------------------------------------------------ scheduler

    private void makeRunnable(Task t) {
        t.state = Task.State.RUNNABLE;
        if (!t.onRunQueue && t != current) {
            t.onRunQueue = true;
            runQueue.add(t);
        }
        if (current.idle) {
            needResched = true;
        }
    }

    /** {@code schedule()}: a sleeping task leaves the CPU; a running one yields only if asked. */
    private void schedule() {
        if (current.state == Task.State.SLEEPING || current.idle) {
            Task next = runQueue.poll();
            switchTo(next == null ? idle : next);
        } else if (needResched && !runQueue.isEmpty()) {
            Task prev = current;
            switchTo(runQueue.poll());
            makeRunnable(prev);
        }
        needResched = false;
    }

    private void switchTo(Task next) {
        if (next == current) {
            return;
        }
        next.onRunQueue = false;
        current.savedIf = ifFlag;
        current = next;
        ifFlag = next.savedIf;
        stiShadow = false;
        next.sliceStart = now;
        events.add(now, TraceEvent.SWITCH_TO_TASK, next.index);
    }

    // ------------------------------------------------------------------ invariants

    /** Hung tasks and wedged vCPUs, checked at every timer tick (virtual time). */
    private void watchdogs() {
        var g = settings.guest();
        for (Task t : tasks) {
            if (t.state == Task.State.SLEEPING && !t.hungReported && now - t.sleepSince > g.hungTaskTimeoutNanos()) {
                t.hungReported = true;
                TokenFate fate = sleepFate(t.index);
                report(FindingKind.HUNG_TASK, "task " + t.index + " blocked for more than "
                        + g.hungTaskTimeoutNanos() / 1_000_000 + " ms waiting on token 0x" + Integer.toHexString(t.sleepToken)
                        + (fate == null ? "" : ": " + fate.describe()));
            }
        }
        for (Frame f : current.stack) {
            if (f.routine == Routine.WAIT && f.node != null && (f.halted || current.idle) && !f.reported
                    && now - f.since > g.wedgeTimeoutNanos()) {
                f.reported = true;
                boolean inNmi = current.stack.stream().anyMatch(x -> x.routine == Routine.NMI);
                report(FindingKind.VCPU_WEDGED, "vCPU halted in the async #PF wait loop for token 0x"
                        + Integer.toHexString(f.token) + " for more than " + g.wedgeTimeoutNanos() / 1_000_000
                        + " ms" + (inNmi ? ", inside an NMI handler" : ""));
            }
        }
    }

    private void panic(String text) {
        report(FindingKind.GUEST_PANIC, text);
        dead = true;
        deathReason = "guest panic: " + text;
    }

    private void report(FindingKind kind, String detail) {
        events.finding(now, kind);
        out.finding(new Finding(kind, id, now, detail, events.snapshot()));
    }

    // ------------------------------------------------------------------ observation

    public int id() {
        return id;
    }

    /** Virtual nanoseconds spent per {@link VcpuTime} (by ordinal) so far; they add up to the time run. */
    public long[] timeUse() {
        return timeUse.clone();
    }

    public Counters counters() {
        return counters;
    }

    public HostApf host() {
        return host;
    }

    public boolean dead() {
        return dead;
    }

    public String deathReason() {
        return deathReason;
    }

    public long nowNanos() {
        return now;
    }

    public boolean interruptFlag() {
        return ifFlag;
    }

    public long cr2() {
        return cr2;
    }

    public boolean nmiBlocked() {
        return nmiBlocked;
    }

    public boolean halted() {
        return hlt;
    }

    public boolean stalled() {
        return stallUntil >= 0;
    }

    public boolean guestApfEnabled() {
        return guestApfEnabled;
    }

    /** Reports every latency this vCPU observes to {@code sink} (the engine's histograms). */
    public void latencySink(LatencySink sink) {
        this.latencies = sink;
    }

    /** The last events of this vCPU, oldest first, as a finding shows them. */
    public java.util.List<String> lastEvents() {
        return events.snapshot();
    }

    /** Passes every event of this vCPU to {@code sink} as well (the deterministic engine's trace). */
    public void eventSink(EventSink sink) {
        events.sink(sink, id);
    }

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
        if (dead) {
            return true;
        }
        if (stallUntil >= 0 || exitPending || !nmiInputs.isEmpty() || !completions.isEmpty()
                || nextScheduled() != Long.MAX_VALUE) {
            return false;
        }
        // Boot is not over until the first idle HLT exit starts the workload: without APF (no
        // wake-all at enable) that exit is the next timer tick, which changes everything.
        if (!tasksStarted) {
            return false;
        }
        if (host.halted()) {
            return !host.hasDone() && !eventDeliverable();
        }
        return hlt && !eventDeliverable() && !host.completionDeliverable();
    }

    /**
     * The earliest virtual time at which this vCPU may do anything: now if it is running (or
     * about to wake), else the first of its queued inputs, the end of a stall, the next timer
     * tick and a guest.apf-disable step still to come. The engine skips quanta in which no
     * participant has anything due.
     */
    public long nextDueNanos() {
        if (dead) {
            return Long.MAX_VALUE;
        }
        if (stallUntil < 0) {
            boolean waking = host.halted() ? host.hasDone() || eventDeliverable()
                    : !hlt || eventDeliverable() || host.completionDeliverable();
            if (waking || exitPending) {
                return now;
            }
        }
        long t = nextTick;
        if (stallUntil >= 0) {
            t = Math.min(t, stallUntil);
        }
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
        return Math.max(now, t);
    }

    /**
     * Called when the whole machine is quiescent: every task still asleep will sleep forever.
     * One LOST_WAKEUP per such task, naming its token and what became of it (ground truth,
     * DESIGN §1.6), e.g. a token flushed by a guest disable without its wake-all (§4(v)).
     */
    public void reportLostWakeups() {
        for (Task t : tasks) {
            if (t.state == Task.State.SLEEPING) {
                TokenFate fate = sleepFate(t.index);
                report(FindingKind.LOST_WAKEUP, "quiescent: task " + t.index + " of vCPU " + id
                        + " sleeps on token 0x" + Integer.toHexString(t.sleepToken) + " forever: "
                        + (fate == null ? "its fate is not known" : fate.describe()) + "; nothing will wake it");
            }
        }
    }

    /**
     * What became of the token task {@code task} of this vCPU sleeps on (ground truth the
     * guest cannot see), or null if that task is not asleep.
     */
    public TokenFate sleepFate(int task) {
        Task t = tasks[task];
        if (t.state != Task.State.SLEEPING) {
            return null;
        }
        for (Frame f : t.stack) {
            if (f.routine == Routine.WAIT && f.fate != null && f.token == t.sleepToken) {
                return f.fate;
            }
        }
        return null;
    }

    /** The fate of {@code token} when a wait on it starts; later changes come through the CpuPort hooks. */
    private TokenFate fateAtWait(int token) {
        WorkItem w = host.atWorker(token);
        if (w != null && !host.stale(w)) {
            return TokenFate.of(TokenFate.State.AT_WORKER, w.issuedAtNanos());
        }
        if (host.onDoneList(token)) {
            return TokenFate.of(TokenFate.State.QUEUED, -1);
        }
        TokenFate recent = recentTokens.find(token);
        if (recent != null) {
            return recent;
        }
        if (w != null) {
            return TokenFate.of(TokenFate.State.FLUSHED, -1);
        }
        return TokenFate.of(host.everIssued(token) ? TokenFate.State.GONE : TokenFate.State.NEVER_ISSUED, -1);
    }

    /** A page-ready for {@code token} was taken by {@code who} without waking its sleeper. */
    private void pageReadyConsumed(int token, String who) {
        TokenFate prior = recentTokens.find(token);
        boolean known = prior != null && prior.state() == TokenFate.State.DELIVERED;
        TokenFate fate = (known ? prior : TokenFate.of(TokenFate.State.DELIVERED, -1)).consumed(who, now);
        if (known) {
            recentTokens.update(token, fate);
        } else {
            recentTokens.add(token, fate);
        }
        updateFate(token, fate);
    }

    /** Every wait in progress on {@code token}, on any task of this vCPU, now has {@code fate}. */
    private void updateFate(int token, TokenFate fate) {
        for (Task t : tasks) {
            updateFate(t, token, fate);
        }
        updateFate(idle, token, fate);
    }

    private static void updateFate(Task t, int token, TokenFate fate) {
        for (Frame f : t.stack) {
            if (f.routine == Routine.WAIT && f.fate != null && f.token == token) {
                f.fate = fate;
            }
        }
    }

    /** Tasks in uninterruptible sleep on an async #PF token. */
    public int sleepingTasks() {
        int n = 0;
        for (Task t : tasks) {
            if (t.state == Task.State.SLEEPING) {
                n++;
            }
        }
        return n;
    }

    /** Name of the routine at the top of the current task's stack (for tests and traces). */
    public String currentRoutine() {
        Frame top = current.top();
        return top == null ? "none" : top.routine.name();
    }

    /** Program counter of the top frame (for scripted tests). */
    public int currentPc() {
        Frame top = current.top();
        return top == null ? -1 : top.pc;
    }

    /** Completions of this vCPU's work received but not yet due (for conservation at the end of a run). */
    public int queuedCompletions() {
        return (int) completions.stream().filter(t -> t.value.vcpu() == id).count();
    }

    /** Page-readies of other vCPUs' tokens received but not yet taken in (host.bugs.page-ready-to-other-vcpu). */
    public int queuedForeignPageReadies() {
        return completions.size() - queuedCompletions();
    }

    public int currentTask() {
        return current.index;
    }

    public boolean irrPending(int vector) {
        return (irr[vector >>> 6] & (1L << vector)) != 0;
    }
}
