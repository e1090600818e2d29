package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * WAKE: {@code kvm_async_pf_task_wake} (reference §2.1 "Guest wake"). Wake-all walks every
 * bucket and unhashes this CPU's nodes (a dummy unlinked this way is leaked, §4(iii)-B).
 * Otherwise a node with the token is unhashed and woken; with none, a dummy is left for the
 * waiter still to come (wake-before-wait).
 */
public final class AsyncPfWake extends BucketLocking {
    public static final int LOCK = 0;
    public static final int WAKE = 1;
    public static final int UNLOCK = 2;

    private final int token;
    private final int bucket;
    /** Wake-all: the bucket it is at. */
    private int walk;

    private AsyncPfWake(int token) {
        super(Routine.WAKE);
        this.token = token;
        this.bucket = SleeperTable.bucket(token);
    }

    /** Calls the wake of {@code token} ({@code ~0}: wake-all). */
    public static void call(Kernel k, int token) {
        k.push(new AsyncPfWake(token));
    }

    @Override
    public void step(Kernel k) {
        boolean all = token == Apf.WAKE_ALL_TOKEN;
        SleeperTable sleepers = k.sleepers();
        switch (pc) {
            case LOCK -> {
                if ((all || ran(code(k).wakePath())) && tryLock(k, all ? walk : bucket)) {
                    pc = WAKE;
                }
            }
            case WAKE -> {
                if (all) {
                    for (SleeperNode n : sleepers.nodesOf(walk, k.cpuId())) {
                        sleepers.unlink(walk, n);
                        if (n.isDummy()) {
                            k.truth().dummyUnlinkedByWakeAll(n.token);
                        } else {
                            k.wake(n);
                        }
                    }
                } else {
                    SleeperNode n = sleepers.find(bucket, token);
                    if (n != null) {
                        sleepers.unlink(bucket, n);
                        k.wake(n);
                    } else {
                        sleepers.insert(bucket, SleeperNode.dummy(token, k.cpuId(), k.now()));
                        k.counters().inc(Counter.DUMMIES_CREATED);
                        k.rec().event(TraceEvent.WAKE_LEFT_DUMMY, token & 0xFFFFFFFFL);
                        k.truth().dummyLeft(token);
                    }
                }
                pc = UNLOCK;
            }
            default -> {
                sleepers.unlock(all ? walk : bucket, k.cpuId());
                if (all && ++walk < SleeperTable.BUCKETS) {
                    pc = LOCK;
                } else {
                    k.pop();
                }
            }
        }
    }
}
