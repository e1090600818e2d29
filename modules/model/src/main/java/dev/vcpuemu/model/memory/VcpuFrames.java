package dev.vcpuemu.model.memory;

import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;

import java.util.random.RandomGenerator;

/**
 * The host's view of one vCPU's guest frames (DESIGN §1.1): which are resident, changed only by
 * that vCPU's host half at the virtual time the change happens, so that residency never depends
 * on when a thread touches the shared memory (DESIGN §3). A swap-in makes a frame resident when
 * its completion falls due; the host then reclaims directly, evicting random resident frames of
 * the same vCPU while more than {@code limit} are resident (a memory cgroup's reclaim on charge,
 * as in kvm-unit-tests' set-up, reference §6); the reclaimer's steady churn arrives as timed
 * evictions.
 */
public final class VcpuFrames {
    private static final int PROBES = 64;

    private final HostMemory memory;
    private final int base;
    private final int count;
    private final int limit;
    private final Counters counters;

    /**
     * @param base          the first frame of this vCPU
     * @param count         its frames
     * @param residentLimit the share of them that may be resident (host.memory.resident-limit)
     */
    public VcpuFrames(HostMemory memory, int base, int count, double residentLimit, Counters counters) {
        this.memory = memory;
        this.base = base;
        this.count = count;
        this.limit = Math.max(1, (int) Math.floor(count * residentLimit));
        this.counters = counters;
    }

    public boolean resident(int gfn) {
        return memory.resident(gfn);
    }

    /** The frame's swap-in completed: resident now, then reclaim down to the limit. */
    public void bringIn(int gfn, RandomGenerator rng) {
        memory.makeResident(gfn);
        int resident = residentCount();
        // Reclaim on charge: the frame just brought in is not a candidate.
        while (resident > limit && evictOther(gfn, rng)) {
            resident--;
        }
    }

    /** The reclaimer's churn: evicts one random resident frame, if one is found. */
    public boolean evictOne(RandomGenerator rng) {
        return evictOther(-1, rng);
    }

    /** Evicts a random resident frame other than {@code keep}; gives up after a bounded number of probes. */
    private boolean evictOther(int keep, RandomGenerator rng) {
        for (int i = 0; i < PROBES; i++) {
            int gfn = base + rng.nextInt(count);
            if (gfn != keep && memory.evict(gfn)) {
                counters.inc(Counter.PAGES_EVICTED);
                return true;
            }
        }
        return false;
    }

    /** Frames of this vCPU resident now. */
    public int residentCount() {
        return memory.residentIn(base, base + count);
    }

    public int limit() {
        return limit;
    }
}
