package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.program.AsyncPfWait;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.truth.GuestTruth;
import dev.vcpuemu.model.truth.TokenFate;

import java.util.function.IntConsumer;

/**
 * The tasks of one vCPU asleep on async-PF tokens, as watchdogs and ground truth see them:
 * Linux's hung-task detector, the wedged-vCPU check of the emulator (a CPU halted in the wait
 * loop, §4(i) GL), what became of each sleeper's token (the ledger's record of its wait), and
 * the lost wakeups left when the machine goes quiet. Observation only: nothing here changes a
 * task.
 */
public final class WaitingTasks implements GuestTruth {
    private final int cpu;
    private final Settings.Guest guest;
    private final Task[] tasks;
    private final Recorder rec;

    WaitingTasks(int cpu, Settings.Guest guest, Task[] tasks, Recorder rec) {
        this.cpu = cpu;
        this.guest = guest;
        this.tasks = tasks;
        this.rec = rec;
    }

    /** Hung tasks (Linux's {@code khungtaskd}) and wedged vCPUs, checked at every timer tick. */
    void check(long now, Task current) {
        for (Task t : tasks) {
            if (t.state == Task.State.SLEEPING && !t.hungReported && now - t.sleepSince > guest.hungTaskTimeoutNanos()) {
                t.hungReported = true;
                TokenFate fate = sleepFate(t.index);
                rec.finding(FindingKind.HUNG_TASK, "task " + t.index + " blocked for more than "
                        + guest.hungTaskTimeoutNanos() / 1_000_000 + " ms waiting on token 0x" + Integer.toHexString(t.sleepToken)
                        + (fate == null ? "" : ": " + fate.describe()));
            }
        }
        for (Frame f : current.frames()) {
            if (f instanceof AsyncPfWait w && w.haltedWaiting(current.idle) && now - w.since() > guest.wedgeTimeoutNanos()
                    && w.reportWedgeOnce()) {
                boolean inNmi = current.frames().stream().anyMatch(x -> x.routine == Routine.NMI);
                rec.finding(FindingKind.VCPU_WEDGED, "vCPU halted in the async #PF wait loop for token 0x"
                        + Integer.toHexString(w.token()) + " for more than " + guest.wedgeTimeoutNanos() / 1_000_000
                        + " ms" + (inNmi ? ", inside an NMI handler" : ""));
            }
        }
    }

    @Override
    public void forEachSleeperOn(int token, IntConsumer task) {
        for (Task t : tasks) {
            if (t.state == Task.State.SLEEPING && t.sleepToken == token) {
                task.accept(t.index);
            }
        }
    }

    /**
     * What became of the token task {@code task} sleeps on (ground truth the guest cannot see),
     * or null if that task is not asleep.
     */
    public TokenFate sleepFate(int task) {
        Task t = tasks[task];
        if (t.state != Task.State.SLEEPING) {
            return null;
        }
        for (Frame f : t.frames()) {
            if (f instanceof AsyncPfWait w && w.ledgerRecord() != null && w.token() == t.sleepToken) {
                return w.ledgerRecord().fate();
            }
        }
        return null;
    }

    /**
     * The whole machine is quiescent: every task still asleep will sleep forever. One
     * LOST_WAKEUP per such task, naming its token and what became of it (DESIGN §1.6), e.g. a
     * token flushed by a guest disable without its wake-all (§4(v)).
     */
    public void reportLostWakeups() {
        for (Task t : tasks) {
            if (t.state == Task.State.SLEEPING) {
                TokenFate fate = sleepFate(t.index);
                rec.finding(FindingKind.LOST_WAKEUP, "quiescent: task " + t.index + " of vCPU " + cpu
                        + " sleeps on token 0x" + Integer.toHexString(t.sleepToken) + " forever: "
                        + (fate == null ? "its fate is not known" : fate.describe()) + "; nothing will wake it");
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
}
