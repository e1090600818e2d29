package dev.vcpuemu.model.host;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.truth.HostTruth;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * KVM's per-vCPU async-PF bookkeeping (reference §1.5, §2.7): the gfns with an outstanding APF
 * ({@code apf.gfns}, duplicate suppression), the count of queued items ({@code async_pf.queued},
 * limit 64, wake-all items included, decremented only at dequeue), the done list, and the
 * enable epoch ({@code generation}) by which a disable flushes everything in flight (§2.5). It
 * also keeps, as ground truth for the ledger, which tokens are still at a paging worker.
 */
final class AsyncPfQueue implements HostTruth {
    private final int vcpuId;
    private final HostObserver observer;
    private int generation;
    private final Set<Integer> gfns = new HashSet<>();
    private int queued;
    private final ArrayDeque<WorkItem> done = new ArrayDeque<>();
    private long flushed;
    private long outstandingAtWorkers;
    /** Items at paging workers by token, of any generation: bounded by the work in flight. */
    private final Map<Integer, WorkItem> atWorkers = new HashMap<>();
    private long issued;

    AsyncPfQueue(int vcpuId, HostObserver observer) {
        this.vcpuId = vcpuId;
        this.observer = observer;
    }

    int generation() {
        return generation;
    }

    int queued() {
        return queued;
    }

    boolean outstanding(int gfn) {
        return gfns.contains(gfn);
    }

    boolean hasDone() {
        return !done.isEmpty();
    }

    long flushed() {
        return flushed;
    }

    long outstandingTokens() {
        return outstandingAtWorkers + done.stream().filter(i -> !i.wakeAll()).count();
    }

    WorkItem atWorker(int token) {
        return atWorkers.get(token);
    }

    boolean stale(WorkItem item) {
        return item.generation() != generation;
    }

    /** A token was issued for {@code gfn}: it is outstanding and counts against the limit. */
    void issue(int gfn) {
        issued++;
        queued++;
        gfns.add(gfn);
    }

    /** The item went to a paging worker ({@code schedule_work}). */
    void sent(WorkItem item) {
        outstandingAtWorkers++;
        atWorkers.put(item.token(), item);
    }

    /** A paging worker finished {@code item}; false if a disable has flushed it since (it is dropped). */
    boolean completed(WorkItem item) {
        outstandingAtWorkers--;
        atWorkers.remove(item.token(), item);
        if (stale(item)) {
            flushed++;
            return false;
        }
        return true;
    }

    /** {@code kvm_async_pf_wakeup_all} queues one only if {@code done} is empty (§2.1 host enable); true if it did. */
    boolean queueWakeAll(long now) {
        if (!done.isEmpty()) {
            return false;
        }
        done.add(new WorkItem(vcpuId, Apf.WAKE_ALL_TOKEN, -1, true, false, generation, now));
        queued++;
        return true;
    }

    /** Appends a completion (or another vCPU's page-ready); returns whether the list was empty before. */
    boolean append(WorkItem item) {
        boolean wasEmpty = done.isEmpty();
        done.add(item);
        return wasEmpty;
    }

    /** Dequeues the oldest done item: it no longer counts, and its gfn is no longer outstanding (the prefault is the worker's page-in). */
    WorkItem take() {
        WorkItem item = done.poll();
        if (!foreign(item)) {
            queued--;
            if (!item.wakeAll()) {
                gfns.remove(item.gfn());
            }
        }
        return item;
    }

    boolean foreign(WorkItem item) {
        return item.vcpu() != vcpuId;
    }

    /**
     * Disable, CR0.PG change (before 2025) or migration: every completed item is freed and
     * in-flight ones will be dropped (§2.5).
     */
    void flush() {
        for (WorkItem i : done) {
            if (!i.wakeAll()) {
                flushed++;
                observer.tokenFlushed(i.token());
            }
        }
        for (WorkItem i : atWorkers.values()) {
            if (i.generation() == generation) {
                observer.tokenFlushed(i.token());
            }
        }
        done.clear();
        gfns.clear();
        queued = 0;
        generation++;
    }

    // ------------------------------------------------------------------ HostTruth

    @Override
    public long atWorkerSince(int token) {
        WorkItem w = atWorkers.get(token);
        return w != null && !stale(w) ? w.issuedAtNanos() : -1;
    }

    @Override
    public boolean flushedAtWorker(int token) {
        WorkItem w = atWorkers.get(token);
        return w != null && stale(w);
    }

    @Override
    public boolean onDoneList(int token) {
        for (WorkItem i : done) {
            if (!i.wakeAll() && i.token() == token) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether this host ever issued {@code token}. Ids count up from 1 in the bits above the
     * vCPU id (§2.7); once they have wrapped, every token with this vCPU's id may have been.
     */
    @Override
    public boolean everIssued(int token) {
        if ((token & 0xFFF) != vcpuId) {
            return false;
        }
        int n = token >>> 12;
        return issued >= (1 << 20) - 1 || (n >= 1 && n <= issued);
    }
}
