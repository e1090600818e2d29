package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.finding.FindingKind;

/**
 * A routine that takes a sleeper-bucket lock, a spinlock: a micro-op that finds it held by
 * another CPU spins (retries at its next boundary). A spin on a lock this very CPU holds,
 * lower on its own stack, never ends: a nested wake or wait interrupted the code that holds it
 * (§4(ii) counterfactual 2, a host that injects with IF=0). Reported once per spinning frame.
 */
abstract class BucketLocking extends Frame {
    private boolean deadlockReported;

    BucketLocking(Routine routine) {
        super(routine);
    }

    /** One attempt at {@code bucket}'s lock: true if taken. */
    final boolean tryLock(Kernel k, int bucket) {
        if (k.sleepers().tryLock(bucket, k.cpuId())) {
            return true;
        }
        if (!deadlockReported && k.sleepers().owner(bucket) == k.cpuId()) {
            deadlockReported = true;
            k.rec().finding(FindingKind.SELF_DEADLOCK, routine + " spins on sleeper bucket " + bucket
                    + " whose lock this vCPU already holds, lower on its own stack: it never ends (§4(ii))");
        }
        return false;
    }
}
