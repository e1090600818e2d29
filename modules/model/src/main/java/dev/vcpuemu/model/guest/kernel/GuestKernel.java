package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.cpu.X86Cpu;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.Boot;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.L2Guest;
import dev.vcpuemu.model.guest.program.Layout;
import dev.vcpuemu.model.guest.program.NmiState;
import dev.vcpuemu.model.guest.program.Platform;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.memory.GuestPageTables;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Ledger;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * The guest kernel of one vCPU (DESIGN §1.4): its tasks, each with a kernel stack of routine
 * frames, the run queue and scheduler, the idle task, the per-CPU state Linux keeps (NMI and
 * IRQ nesting, {@code need_resched}, the APF enabled flag), the IDT through which the CPU
 * enters handlers, and the hung-task watchdog. It runs one micro-op of the top frame of the
 * running task per {@link #execute}; the routines themselves are {@link Frame} classes, the
 * era's APF code an {@link ApfEra}.
 */
public final class GuestKernel implements Kernel {
    private final int id;
    private final Settings settings;
    private final RandomGenerator rng;
    private final X86Cpu cpu;
    private final Platform platform;
    private final SleeperTable sleepers;
    private final Recorder rec;
    private final Counters counters;
    private final Ledger truth;
    private final ApfEra era;
    private final Layout layout;
    private final LongSupplier clock;
    private LatencySink latencies = LatencySink.NONE;

    private final Task[] tasks;
    private final Task idle;
    private Task current;
    private final ArrayDeque<Task> runQueue = new ArrayDeque<>();
    private boolean needResched;
    private boolean tasksStarted;
    private long idleHalts;
    private boolean apfEnabled;
    private final NmiState nmi = new NmiState();
    private int irqNesting;
    private final InterruptTable idt;
    private final ApfHotplug hotplug;
    private final WaitingTasks waiting;
    private String panic;

    public GuestKernel(int id, Settings settings, RandomGenerator rng, X86Cpu cpu, Platform platform,
                       SleeperTable sleepers, ApfEra era, Recorder rec, Counters counters, Ledger truth,
                       LongSupplier clock) {
        this.id = id;
        this.settings = settings;
        this.rng = rng;
        this.cpu = cpu;
        this.platform = platform;
        this.sleepers = sleepers;
        this.era = era;
        this.rec = rec;
        this.counters = counters;
        this.truth = truth;
        this.clock = clock;
        this.layout = new Layout(id, settings);
        this.idt = new InterruptTable(this, era);
        this.hotplug = new ApfHotplug(cpu, rec,
                settings.guest().apfDisable().appliesTo(id) ? settings.guest().apfDisable().atNanos() : -1);

        idle = new Task(-1, true);
        idle.push(new IdleLoop(this));
        idle.push(new Boot());
        current = idle;
        int n = settings.guest().tasksPerVcpu();
        tasks = new Task[n];
        for (int i = 0; i < n; i++) {
            tasks[i] = new Task(i, false);
            startProcess(tasks[i]);
        }
        waiting = new WaitingTasks(id, settings.guest(), tasks, rec);
    }

    /** Reports every latency the guest observes to {@code sink}. */
    public void latencySink(LatencySink sink) {
        this.latencies = sink;
    }

    /** Runs one micro-op of the routine on top of the running task's stack. */
    public void execute() {
        current.top().step(this);
    }

    /** The IDT through which the CPU enters this kernel's handlers. */
    public X86Cpu.Idt idt() {
        return idt;
    }

    /** The frame on top of the running task's stack (the routine the CPU is in). */
    public Frame top() {
        return current.top();
    }

    /** The frame of the running task's kernel stack: where an exception or interrupt delivered now pushes its frame. */
    public int stackGfn() {
        return layout.stackGfn(current.index);
    }

    /** The panic text once the guest has panicked, else null. */
    public String panicked() {
        return panic;
    }

    // ------------------------------------------------------------------ Kernel: the machine

    @Override
    public X86Cpu cpu() {
        return cpu;
    }

    @Override
    public Platform platform() {
        return platform;
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Layout layout() {
        return layout;
    }

    @Override
    public RandomGenerator rng() {
        return rng;
    }

    @Override
    public long now() {
        return clock.getAsLong();
    }

    @Override
    public int cpuId() {
        return id;
    }

    @Override
    public ApfEra era() {
        return era;
    }

    @Override
    public SleeperTable sleepers() {
        return sleepers;
    }

    @Override
    public Recorder rec() {
        return rec;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public LatencySink latencies() {
        return latencies;
    }

    @Override
    public Ledger truth() {
        return truth;
    }

    // ------------------------------------------------------------------ Kernel: the running task and its stack

    @Override
    public int task() {
        return current.index;
    }

    @Override
    public boolean idleTask() {
        return current.idle;
    }

    @Override
    public int preemptCount() {
        return current.preemptCount;
    }

    @Override
    public void preemptCount(int delta) {
        current.preemptCount += delta;
    }

    @Override
    public GuestPageTables pageTables() {
        return current.pageTables;
    }

    @Override
    public void sleepOn(int token, long since) {
        current.state = Task.State.SLEEPING;
        current.sleepSince = since;
        current.sleepToken = token;
    }

    @Override
    public void awake() {
        current.state = Task.State.RUNNABLE;
        current.hungReported = false;
    }

    @Override
    public void killCurrentTask(long va) {
        counters.inc(Counter.TASKS_KILLED);
        rec.event(TraceEvent.SIGSEGV, va);
        Task t = current;
        t.clear();
        startProcess(t);
        cpu.interruptFlag(true);
    }

    private void startProcess(Task t) {
        t.pageTables = new GuestPageTables(layout.workingSet(), settings.workload().mappedPages());
        t.push(t.index < settings.guest().nested().l2VcpuThreads() ? new L2Guest() : new UserLoop());
        t.savedIf = true;
        t.preemptCount = 0;
    }

    @Override
    public void push(Frame f) {
        current.push(f);
    }

    @Override
    public Frame pop() {
        return current.pop();
    }

    @Override
    public void iret() {
        Frame f = current.pop();
        cpu.iret(f.savedIf());
        rec.event(TraceEvent.IRET, f.routine.ordinal());
    }

    @Override
    public int trapDepth() {
        int n = 0;
        for (Frame f : current.frames()) {
            if (f.routine.trap) {
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean insideLegacyPageFaultEntry(Frame except) {
        for (Frame x : current.frames()) {
            if (x != except && (x.routine == Routine.PF_LEGACY || x.routine == Routine.PF_LEGACY_EARLY)) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ Kernel: the scheduler

    @Override
    public void schedule() {
        if (current.state == Task.State.SLEEPING || current.idle) {
            Task next = runQueue.poll();
            switchTo(next == null ? idle : next);
        } else if (needResched && !runQueue.isEmpty()) {
            preemptCurrent();
        }
        needResched = false;
    }

    @Override
    public void preemptCurrent() {
        Task prev = current;
        switchTo(runQueue.poll());
        makeRunnable(prev);
    }

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

    private void switchTo(Task next) {
        if (next == current) {
            return;
        }
        next.onRunQueue = false;
        current.savedIf = cpu.interruptFlag();
        current = next;
        cpu.interruptFlag(next.savedIf);
        cpu.endShadow();
        next.sliceStart = now();
        rec.event(TraceEvent.SWITCH_TO_TASK, next.index);
    }

    @Override
    public void halt() {
        cpu.halt();
        platform.hlt();
        rec.event(TraceEvent.HLT, current.index);
    }

    @Override
    public boolean needResched() {
        return needResched;
    }

    @Override
    public void needResched(boolean on) {
        needResched = on;
    }

    @Override
    public boolean runQueueEmpty() {
        return runQueue.isEmpty();
    }

    @Override
    public long sliceStart() {
        return current.sliceStart;
    }

    @Override
    public void wake(SleeperNode n) {
        rec.event(TraceEvent.WAKE, n.token & 0xFFFFFFFFL);
        if (n.cpu != id) {
            platform.remoteWake(n.cpu, n.task);
        } else if (n.halted || n.task < 0) {
            cpu.raiseIrq(Vector.RESCHEDULE);
        } else if (tasks[n.task].state == Task.State.SLEEPING) {
            makeRunnable(tasks[n.task]);
        }
    }

    /** A reschedule IPI from another vCPU that unhashed one of our waiters ({@code task}, -1: a halted one). */
    public void remoteWake(int task) {
        cpu.raiseIrq(Vector.RESCHEDULE);
        if (task >= 0 && tasks[task].state == Task.State.SLEEPING) {
            makeRunnable(tasks[task]);
        }
    }

    // ------------------------------------------------------------------ Kernel: per-CPU state

    @Override
    public NmiState nmi() {
        return nmi;
    }

    @Override
    public int irqNesting() {
        return irqNesting;
    }

    @Override
    public void irqNesting(int delta) {
        irqNesting += delta;
    }

    @Override
    public boolean apfEnabled() {
        return apfEnabled;
    }

    @Override
    public void apfEnabled(boolean on) {
        apfEnabled = on;
    }

    @Override
    public void reenableApfAfter(long nanos) {
        hotplug.reenableAt(now() + nanos);
    }

    @Override
    public void panic(String text) {
        rec.finding(FindingKind.GUEST_PANIC, text);
        panic = text;
    }

    // ------------------------------------------------------------------ the idle task

    /**
     * The workload starts once the CPU has been up and idle with IRQs on (one HLT exit), as in
     * Linux where APF is enabled at bring-up long before user tasks run: by then the enable's
     * wake-all has been delivered.
     */
    void startTasksOnceBooted() {
        if (!tasksStarted && idleHalts > 0) {
            tasksStarted = true;
            for (Task t : tasks) {
                makeRunnable(t);
            }
        }
    }

    void idleHalted() {
        idleHalts++;
    }

    /** The guest.apf-disable step due now, as the routine for the idle task to call, or null. */
    Frame dueApfToggle() {
        return hotplug.take(now());
    }

    /** At each boundary: the hotplug thread is woken when its step is due. */
    public void kickApfToggleIfDue(long now) {
        hotplug.kickIfDue(now);
    }

    /** The guest.apf-disable step still to come and not yet kicked, or {@link Long#MAX_VALUE}. */
    public long nextApfToggle() {
        return hotplug.next();
    }

    /** Boot is over: the first idle HLT exit has started the workload. */
    public boolean tasksStarted() {
        return tasksStarted;
    }

    // ------------------------------------------------------------------ the tasks' waits

    /** The tasks asleep on tokens: the watchdogs, and what the ledger asks of them. */
    public WaitingTasks waiting() {
        return waiting;
    }

    /** Hung tasks (Linux's {@code khungtaskd}) and wedged vCPUs, checked at every timer tick. */
    public void watchdogs(long now) {
        waiting.check(now, current);
    }
}
