package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.cpu.X86Cpu;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.memory.GuestPageTables;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.truth.Ledger;

import java.util.random.RandomGenerator;

/**
 * What the guest kernel of one vCPU offers the routines that run on it: the machine below, the
 * running task and its stack, the scheduler, and the per-CPU state Linux keeps. Routines hold
 * no reference to each other or to the kernel; each step gets it.
 */
public interface Kernel {

    // ------------------------------------------------------------------ the machine

    X86Cpu cpu();

    Platform platform();

    Settings settings();

    Layout layout();

    /** The vCPU's seeded random source (DESIGN §2.2). */
    RandomGenerator rng();

    /** Virtual time. */
    long now();

    /** This CPU's id in the guest. */
    int cpuId();

    /** The guest's APF code of its era. */
    ApfEra era();

    /** The guest's global {@code async_pf_sleepers}. */
    SleeperTable sleepers();

    // ------------------------------------------------------------------ observation (never read to decide)

    Recorder rec();

    Counters counters();

    LatencySink latencies();

    /** Ground truth: the ledger of this vCPU's tokens. */
    Ledger truth();

    // ------------------------------------------------------------------ the running task and its stack

    /** The running task's index; -1 for the idle task. */
    int task();

    boolean idleTask();

    int preemptCount();

    /** {@code preempt_disable()} (+1) and {@code preempt_enable()} (-1). */
    void preemptCount(int delta);

    GuestPageTables pageTables();

    /** The running task goes to sleep on {@code token} (uninterruptible, since {@code since}). */
    void sleepOn(int token, long since);

    /** The running task's wait ended: runnable again. */
    void awake();

    /** SIGSEGV: the running process dies at {@code va} and a fresh one takes its task slot. */
    void killCurrentTask(long va);

    /** Calls a routine: pushes its frame on the running task's stack. */
    void push(Frame f);

    /** Returns from the routine on top. */
    Frame pop();

    /** IRET from the trap routine on top. */
    void iret();

    /** Trap frames on the running task's stack: the nesting level of the newest. */
    int trapDepth();

    /** Whether a legacy #PF handler's entry other than {@code except} is on the stack (tracing's recursion guard). */
    boolean insideLegacyPageFaultEntry(Frame except);

    // ------------------------------------------------------------------ scheduler

    /** {@code schedule()}: a sleeping task leaves the CPU; a running one yields only if asked. */
    void schedule();

    /** HLT, recorded against the running task. */
    void halt();

    boolean needResched();

    void needResched(boolean on);

    boolean runQueueEmpty();

    /** When the running task's time slice began. */
    long sliceStart();

    /** Preemption on the way out of an interrupt: the next runnable task takes the CPU. */
    void preemptCurrent();

    /** Wakes the waiter of {@code node}: a task made runnable, a halted CPU kicked, or an IPI to another vCPU. */
    void wake(SleeperNode node);

    // ------------------------------------------------------------------ per-CPU state

    NmiState nmi();

    int irqNesting();

    void irqNesting(int delta);

    /** The guest's own "APF on for this CPU" flag (the shared area's {@code enabled}). */
    boolean apfEnabled();

    void apfEnabled(boolean on);

    /** guest.apf-disable: enable APF again this long from now, from the idle task. */
    void reenableApfAfter(long nanos);

    /** The guest kernel panics: the vCPU is dead. */
    void panic(String text);
}
