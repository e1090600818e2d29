package dev.vcpuemu.model.memory;

import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;

/**
 * The host's view of one vCPU's guest frames (DESIGN §1.1): which are resident, changed only by
 * that vCPU's host half at the virtual time the change happens, so that residency never depends
 * on when a thread touches the shared memory (DESIGN §3). A swap-in makes a frame resident when
 * its completion falls due; the host then reclaims directly, evicting resident frames of the
 * same vCPU while more than {@code limit} are resident (a memory cgroup's reclaim on charge, as
 * in kvm-unit-tests' set-up, reference §6); the reclaimer's steady churn arrives as timed
 * evictions.
 *
 * <p>Victims are chosen as the host's LRU approximation does, by second chance: every guest
 * access (and every use of a frame as an event's stack) sets the frame's accessed bit, as the
 * CPU sets the EPT A bit; a clock hand sweeps the vCPU's frames, clearing set bits and evicting
 * the first resident frame whose bit is clear (KVM's {@code kvm_age_gfn} is how the host's
 * reclaim reads and clears them). Hot frames (the kernel stacks, the hot set) stay in; a random
 * victim would evict a kernel stack as often as a cold page.
 */
public final class VcpuFrames {
    /** Frames one reclaim pass looks at (the kernel's SWAP_CLUSTER_MAX is 32 pages per batch). */
    private static final int SCAN = 64;

    private final HostMemory memory;
    private final int base;
    private final int count;
    private final int limit;
    private final Counters counters;
    /** The accessed bits, by frame index. */
    private final boolean[] accessed;
    private int hand;

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
        this.accessed = new boolean[count];
    }

    /** A guest access to {@code gfn} (a load, a store, or an event's frame pushed onto it): whether it is resident. */
    public boolean access(int gfn) {
        if (memory.resident(gfn)) {
            accessed[gfn - base] = true;
            return true;
        }
        return false;
    }

    /** The frame's swap-in completed: resident now (the faulting access retries), then reclaim down to the limit. */
    public void bringIn(int gfn) {
        memory.makeResident(gfn);
        accessed[gfn - base] = true;
        int resident = residentCount();
        // Reclaim on charge: the frame just brought in is not a candidate.
        while (resident > limit && evictOther(gfn)) {
            resident--;
        }
    }

    /**
     * One step of the reclaimer's steady scan: the hand examines the next frame; resident and
     * not accessed since the hand last passed it, it is evicted; accessed, it loses its bit (a
     * second chance). At {@code evict-rate} steps per millisecond the hand goes round a vCPU's
     * frames in frames / rate: a frame survives if it is used at least that often.
     */
    public boolean scanOne() {
        int index = hand;
        hand = hand + 1 == count ? 0 : hand + 1;
        int gfn = base + index;
        if (!memory.resident(gfn)) {
            return false;
        }
        if (accessed[index]) {
            accessed[index] = false;
            return false;
        }
        memory.evict(gfn);
        counters.inc(Counter.PAGES_EVICTED);
        return true;
    }

    /**
     * Second chance: from the hand on, clear set accessed bits and evict the first resident frame
     * (other than {@code keep}) whose bit was clear. A pass looks at {@link #SCAN} frames at most,
     * as reclaim scans a batch of the LRU, so its cost is bounded; where the frames it passes are
     * hot or out, it evicts nothing and the hand has moved on.
     */
    private boolean evictOther(int keep) {
        for (int i = 0; i < SCAN; i++) {
            int index = hand;
            hand = hand + 1 == count ? 0 : hand + 1;
            int gfn = base + index;
            if (gfn == keep || !memory.resident(gfn)) {
                continue;
            }
            if (accessed[index]) {
                accessed[index] = false;
                continue;
            }
            if (memory.evict(gfn)) {
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
