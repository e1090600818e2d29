package dev.vcpuemu.engine.sim;

import java.util.SplittableRandom;

/**
 * Per-actor random generators derived from the run seed and the actor's stable name
 * (DESIGN §2.2): never from identity hashes, which change from run to run.
 */
final class Seeds {
    private Seeds() {
    }

    /**
     * The source of one work item's swap-in latency: a function of the item alone, so that it
     * does not depend on which worker takes the item or when.
     */
    static SplittableRandom forWork(long runSeed, int guest, int vcpu, int token, long issuedAtNanos) {
        return new SplittableRandom(mix(mix(mix(mix(runSeed, guest), vcpu), token), issuedAtNanos));
    }

    private static long mix(long h, long x) {
        long m = (h ^ x) * 0x9E3779B97F4A7C15L;
        return m ^ (m >>> 29);
    }

    static SplittableRandom forActor(long runSeed, String name) {
        long h = 1125899906842597L;
        for (int i = 0; i < name.length(); i++) {
            h = 31 * h + name.charAt(i);
        }
        return new SplittableRandom(runSeed ^ (h * 0x9E3779B97F4A7C15L));
    }
}
