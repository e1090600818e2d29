package dev.vcpuemu.engine.det;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks which ready mailbox the deterministic executor runs next (DESIGN §3). The ready list
 * is in a deterministic order (submission order, with removal by swapping in the last entry),
 * so a strategy's answer, an index into it, is the whole of a scheduling choice: recorded, it
 * replays the run without the generator that made it.
 */
public sealed interface Strategy permits Strategy.Uniform, Strategy.Pct, Strategy.Replay {

    /** Index of the mailbox to run at scheduling step {@code step} (0-based) among {@code ready}. */
    int choose(List<Runnable> ready, long step);

    /** Uniform random choice among the ready mailboxes. */
    static Strategy uniform(long seed) {
        return new Uniform(new SplittableRandom(seed ^ 0x5DEECE66DL));
    }

    /**
     * PCT (Burckhardt et al., ASPLOS 2010): every mailbox gets a random priority when first
     * seen, the highest-priority ready one always runs, and at {@code depth - 1} change points
     * drawn uniformly from the first {@code horizon} steps the running mailbox drops below all
     * initial priorities. A bug of depth d is found with probability at least 1/(n k^(d-1)).
     */
    static Strategy pct(long seed, int depth, long horizon) {
        return new Pct(new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L), depth, horizon);
    }

    /** Follows {@code choices}; past their end, or where one no longer fits, takes the oldest slot 0. */
    static Strategy replay(Schedule choices) {
        return new Replay(choices);
    }

    final class Uniform implements Strategy {
        private final SplittableRandom rng;

        private Uniform(SplittableRandom rng) {
            this.rng = rng;
        }

        @Override
        public int choose(List<Runnable> ready, long step) {
            return ready.size() == 1 ? 0 : rng.nextInt(ready.size());
        }
    }

    final class Pct implements Strategy {
        private final SplittableRandom rng;
        private final long[] changePoints;
        // Looked up by identity only, never iterated: hashing order cannot leak into choices.
        private final Map<Runnable, Double> priority = new IdentityHashMap<>();
        private int nextChange;

        private Pct(SplittableRandom rng, int depth, long horizon) {
            if (depth < 1 || horizon < 1) {
                throw new IllegalArgumentException("PCT needs depth >= 1 and horizon >= 1");
            }
            this.rng = rng;
            this.changePoints = new long[depth - 1];
            for (int i = 0; i < changePoints.length; i++) {
                changePoints[i] = rng.nextLong(horizon);
            }
            java.util.Arrays.sort(changePoints);
        }

        @Override
        public int choose(List<Runnable> ready, long step) {
            int best = 0;
            double bestPriority = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < ready.size(); i++) {
                double p = priority.computeIfAbsent(ready.get(i), r -> changePoints.length + 1 + rng.nextDouble());
                if (p > bestPriority) {
                    bestPriority = p;
                    best = i;
                }
            }
            while (nextChange < changePoints.length && changePoints[nextChange] <= step) {
                // Change point i lowers the mailbox it picks to priority i: below every initial
                // priority, and below the mailboxes lowered at later change points.
                priority.put(ready.get(best), (double) (nextChange + 1) / (changePoints.length + 1));
                nextChange++;
            }
            return best;
        }
    }

    final class Replay implements Strategy {
        private final Schedule choices;

        private Replay(Schedule choices) {
            this.choices = choices;
        }

        @Override
        public int choose(List<Runnable> ready, long step) {
            if (step >= choices.size()) {
                return 0;
            }
            int c = choices.get(step);
            return c < ready.size() ? c : 0;
        }
    }
}
