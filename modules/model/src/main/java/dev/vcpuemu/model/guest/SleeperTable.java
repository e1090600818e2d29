package dev.vcpuemu.model.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The guest's global {@code async_pf_sleepers[256]} (reference §1.2, §1.7, §2.1 "Guest
 * wait/wake"): 256 buckets keyed by {@code hash_32(token, 8)}, each with its own lock.
 *
 * <p>It is shared by every vCPU of the guest, as in Linux, so it is one of the few structures
 * touched by several actors. The bucket lock is a CAS on the owning CPU: a micro-op that finds
 * it held by another CPU spins (retries at its next boundary). Lists are only touched by the
 * lock holder; the CAS gives the happens-before edges between holders.
 */
public final class SleeperTable {
    public static final int BUCKETS = 256;
    private static final int FREE = -1;

    private final AtomicIntegerArray owner = new AtomicIntegerArray(BUCKETS);
    private final List<List<SleeperNode>> buckets = new ArrayList<>(BUCKETS);

    public SleeperTable() {
        for (int i = 0; i < BUCKETS; i++) {
            owner.set(i, FREE);
            buckets.add(new ArrayList<>(2));
        }
    }

    /** {@code hash_32(token, 8)}: the golden-ratio multiplicative hash, top 8 bits. */
    public static int bucket(int token) {
        return (token * 0x61C88647) >>> 24;
    }

    public boolean tryLock(int bucket, int cpu) {
        return owner.compareAndSet(bucket, FREE, cpu);
    }

    /** The CPU holding {@code bucket}'s lock, or -1 when it is free. */
    public int owner(int bucket) {
        return owner.get(bucket);
    }

    public void unlock(int bucket, int cpu) {
        if (!owner.compareAndSet(bucket, cpu, FREE)) {
            throw new IllegalStateException("cpu " + cpu + " unlocks bucket " + bucket + " it does not hold");
        }
    }

    /** First node with this token; the caller holds the bucket lock. */
    public SleeperNode find(int bucket, int token) {
        for (SleeperNode n : buckets.get(bucket)) {
            if (n.token == token) {
                return n;
            }
        }
        return null;
    }

    public void insert(int bucket, SleeperNode node) {
        buckets.get(bucket).add(node);
    }

    /** {@code hlist_del_init}: the node is gone and the waiter sees it unhashed. */
    public void unlink(int bucket, SleeperNode node) {
        buckets.get(bucket).remove(node);
        node.unhash();
    }

    /** Nodes of one CPU in a bucket, for wake-all; the caller holds the bucket lock. */
    public List<SleeperNode> nodesOf(int bucket, int cpu) {
        List<SleeperNode> out = new ArrayList<>();
        for (SleeperNode n : buckets.get(bucket)) {
            if (n.cpu == cpu) {
                out.add(n);
            }
        }
        return out;
    }

    /** Total nodes; only meaningful when no vCPU runs (end of run, tests). */
    public int size() {
        int s = 0;
        for (List<SleeperNode> b : buckets) {
            s += b.size();
        }
        return s;
    }
}
