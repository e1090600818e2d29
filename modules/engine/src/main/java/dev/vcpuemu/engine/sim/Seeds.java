package dev.vcpuemu.engine.sim;

import java.util.SplittableRandom;

/**
 * Per-actor random generators derived from the run seed and the actor's stable name
 * (DESIGN §2.2): never from identity hashes, which change from run to run.
 */
final class Seeds {
    private Seeds() {
    }

    static SplittableRandom forActor(long runSeed, String name) {
        long h = 1125899906842597L;
        for (int i = 0; i < name.length(); i++) {
            h = 31 * h + name.charAt(i);
        }
        return new SplittableRandom(runSeed ^ (h * 0x9E3779B97F4A7C15L));
    }
}
