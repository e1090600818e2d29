package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Wait;

/**
 * WAIT: {@code kvm_async_pf_task_wait} (reference §2.1 "Guest wait") or, from 5.8,
 * {@code kvm_async_pf_task_wait_schedule} (§2.2). Lock the bucket; a node with the token is a
 * dummy from an earlier wake (wake-before-wait, §4(iii)): free it and return. Otherwise insert
 * a node and loop until it is unhashed, sleeping in the scheduler or, where the legacy guest
 * cannot schedule, halting with STI;HLT ({@link #SLEEP}).
 */
public final class AsyncPfWait extends BucketLocking {
    public static final int LOCK = 0;
    public static final int LOOKUP = 1;
    public static final int UNLOCK = 2;
    public static final int PREPARE = 3;
    public static final int CHECK_HASHED = 4;
    public static final int STI = 5;
    public static final int SLEEP = 6;
    public static final int CLI = 7;
    public static final int DONE = 8;

    private final int token;
    private final int bucket;
    /** Halt (STI;HLT) instead of schedule: the idle task, or where scheduling is impossible. */
    private final boolean halted;
    /** Ground truth: the context that took the fault could not sleep (IRQs or preemption off, IRQ or NMI context). */
    private boolean atomic;
    private SleeperNode node;
    private long since;
    /** Ground truth: the ledger's record of this wait (never read to decide anything). */
    private Wait wait;
    private boolean wedgeReported;

    private AsyncPfWait(int token, boolean halted, boolean atomic) {
        super(Routine.WAIT);
        this.token = token;
        this.bucket = SleeperTable.bucket(token);
        this.halted = halted;
        this.atomic = atomic;
    }

    /**
     * Calls the wait on {@code token} from the #PF handler {@code trap}.
     *
     * @param schedules         the ≥5.8 flavour, which always schedules
     * @param interruptedKernel the fault was taken in kernel mode (a legacy non-PREEMPT guest halts then)
     */
    public static void call(Kernel k, int token, boolean schedules, boolean interruptedKernel, Frame trap) {
        boolean busy = k.preemptCount() > 0 || k.nmi().nesting() > 0 || k.irqNesting() > 0;
        // 4.19 and 5.3–5.7: halt instead of schedule in the idle task, or where scheduling is
        // impossible (PREEMPT: preempt_count > 1 with the bucket lock held; else kernel mode).
        boolean halted = !schedules && (k.idleTask() || (k.settings().guest().preempt() ? busy : interruptedKernel));
        k.push(new AsyncPfWait(token, halted, !trap.savedIf || busy));
    }

    public int token() {
        return token;
    }

    /** The node is hashed and the wait halts the CPU (the idle task, or the legacy halt path). */
    public boolean haltedWaiting(boolean idleTask) {
        return node != null && (halted || idleTask);
    }

    /** Virtual time the node was hashed. */
    public long since() {
        return since;
    }

    /** Ground truth: this wait's record in the ledger, or null before its node is hashed. */
    public Wait ledgerRecord() {
        return wait;
    }

    /** The wedge watchdog reports a halted wait once. */
    public boolean reportWedgeOnce() {
        if (wedgeReported) {
            return false;
        }
        wedgeReported = true;
        return true;
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case LOCK -> {
                if (tryLock(k, bucket)) {
                    pc = LOOKUP;
                }
            }
            case LOOKUP -> {
                SleeperNode dummy = k.sleepers().find(bucket, token);
                k.truth().waitLookedUp(token);
                if (dummy != null) {
                    k.sleepers().unlink(bucket, dummy);
                    k.rec().event(TraceEvent.WAIT_FOUND_DUMMY, token & 0xFFFFFFFFL);
                } else {
                    node = SleeperNode.waiter(token, k.cpuId(), k.task(), halted, k.now());
                    k.sleepers().insert(bucket, node);
                    since = k.now();
                    wait = k.truth().waitStarts(token);
                    k.counters().inc(Counter.TASKS_SLEPT);
                    k.rec().event(halted ? TraceEvent.WAIT_HALT : TraceEvent.WAIT_SLEEP, token & 0xFFFFFFFFL);
                    k.truth().checkNotConsumedBefore(wait, k.task());
                }
                pc = UNLOCK;
            }
            case UNLOCK -> {
                k.sleepers().unlock(bucket, k.cpuId());
                if (node == null) {
                    k.pop();
                } else {
                    pc = PREPARE;
                }
            }
            case PREPARE -> {
                if (!ran(code(k).waitPath())) {
                    return;
                }
                if (!halted && !k.idleTask()) {
                    k.sleepOn(token, since);
                }
                pc = CHECK_HASHED;
            }
            case CHECK_HASHED -> pc = node.hashed() ? STI : DONE;
            case STI -> {
                k.cpu().sti();
                pc = SLEEP;
            }
            case SLEEP -> {
                pc = CLI;
                if (halted || k.idleTask()) {
                    k.halt();
                } else {
                    if (atomic) {
                        atomic = false;
                        k.rec().finding(FindingKind.SLEEP_IN_ATOMIC, "task " + k.task() + " schedules away to wait on token 0x"
                                + Integer.toHexString(token) + " from a context that must not sleep (IRQs or preemption"
                                + " off, or IRQ/NMI context): BUG: scheduling while atomic");
                    }
                    k.schedule();
                }
            }
            case CLI -> {
                k.cpu().interruptFlag(false);
                pc = PREPARE;
            }
            default -> {
                k.awake();
                k.counters().inc(Counter.TASKS_WOKEN);
                k.latencies().record(LatencyKind.TASK_SLEEP, k.now() - since);
                k.rec().event(TraceEvent.WAIT_DONE, token & 0xFFFFFFFFL);
                k.truth().waitEnds(wait);
                k.pop();
            }
        }
    }
}
