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
 *
 * <p>A strategy also gives the value of every timing draw ({@link #draw}): {@code random} and
 * {@code pct} keep the actors' own draws, so their runs time everything as the concurrent engine
 * does; {@link Replay} gives the recorded values, {@link Aimed} chosen ones.
 */
public sealed interface Strategy permits Strategy.Uniform, Strategy.Pct, Strategy.Replay, Strategy.Aimed {

    /** Index of the mailbox to run at scheduling step {@code step} (0-based) among {@code ready}. */
    int choose(List<Runnable> ready, long step);

    /**
     * Step {@code step} had a single ready mailbox: the executor runs it without asking
     * {@link #choose} (and records choice 0), so that a generator draws nothing there.
     */
    default void onlyOne(long step) {
    }

    /**
     * The run's result is in after {@code steps} scheduling steps; the steps that follow stop its
     * actors and are no part of it.
     */
    default void runEnded(long steps) {
    }

    /**
     * The value of timing draw {@code draw}, in [{@code min}, {@code max}]; {@code sampled} is
     * what the drawing actor's own generator gave, the default.
     */
    default long draw(Draw draw, long min, long max, long sampled) {
        return sampled;
    }

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

    /**
     * Follows {@code choices}; past their end, or where one no longer fits, takes the oldest slot 0
     * and remembers the first such step ({@link Replay#divergence}).
     */
    static Replay replay(Schedule choices) {
        return new Replay(choices);
    }

    /**
     * {@code base}'s scheduling choices and draws, except that each draw named in {@code aims}
     * takes that value (clamped into the draw's range): the window-aimed strategy's runs.
     */
    static Strategy aimed(Strategy base, Map<Draw, Long> aims) {
        return new Aimed(base, Map.copyOf(aims));
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

    final class Aimed implements Strategy {
        private final Strategy base;
        private final Map<Draw, Long> aims;

        private Aimed(Strategy base, Map<Draw, Long> aims) {
            if (base instanceof Aimed || base instanceof Replay) {
                throw new IllegalArgumentException("aims go on a generating strategy");
            }
            this.base = base;
            this.aims = aims;
        }

        @Override
        public int choose(List<Runnable> ready, long step) {
            return base.choose(ready, step);
        }

        @Override
        public void onlyOne(long step) {
            base.onlyOne(step);
        }

        @Override
        public long draw(Draw draw, long min, long max, long sampled) {
            Long aim = aims.get(draw);
            return aim == null ? base.draw(draw, min, max, sampled) : Math.max(min, Math.min(max, aim));
        }
    }

    /**
     * A recorded schedule followed step by step. A schedule that does not fit the run (another
     * topology, seed or mailbox throughput, or an edited or truncated file) is still replayed on,
     * slot 0 wherever a choice does not fit, as shrinking needs for its edited schedules; the first
     * step where it did not fit is kept for the caller to report. A schedule made for another run
     * may still fit at every step: that cannot be told from the choices alone.
     */
    final class Replay implements Strategy {
        private final Schedule choices;
        // Driver-thread state until the run's result; read by the caller once it has the result.
        private Divergence divergence;
        private boolean ended;
        private long step;

        private Replay(Schedule choices) {
            this.choices = choices;
        }

        @Override
        public int choose(List<Runnable> ready, long step) {
            this.step = step;
            if (step >= choices.size()) {
                diverged(Divergence.Kind.SCHEDULE_EXHAUSTED, step, -1, ready.size());
                return 0;
            }
            int c = choices.get(step);
            if (c < 0 || c >= ready.size()) {
                diverged(Divergence.Kind.CHOICE_OUT_OF_RANGE, step, c, ready.size());
                return 0;
            }
            return c;
        }

        @Override
        public void onlyOne(long step) {
            this.step = step;
            if (step >= choices.size()) {
                diverged(Divergence.Kind.SCHEDULE_EXHAUSTED, step, -1, 1);
            } else if (choices.get(step) != 0) {
                diverged(Divergence.Kind.CHOICE_OUT_OF_RANGE, step, choices.get(step), 1);
            }
        }

        @Override
        public void runEnded(long steps) {
            if (steps < choices.size() && !ended) {
                // The run's last step, 0-based: reported (1-based) as the number of steps it took.
                diverged(Divergence.Kind.RUN_ENDED, steps - 1, -1, 0);
            }
            ended = true;
        }

        /**
         * The recorded value; a draw the schedule lacks (shrinking drops draws to restore the
         * actor's own) or whose value is out of range takes the actor's own value.
         */
        @Override
        public long draw(Draw draw, long min, long max, long sampled) {
            if (!choices.timed()) {
                return sampled;
            }
            Long v = choices.valueOf(draw);
            if (v == null) {
                divergedDraw(Divergence.Kind.DRAW_MISSING, "the run drew the " + draw.describe()
                        + ", for which the schedule has no value");
                return sampled;
            }
            if (v < min || v > max) {
                divergedDraw(Divergence.Kind.DRAW_OUT_OF_RANGE, String.format(
                        "the schedule's value %,d for the %s is outside its range %,d to %,d", v, draw.describe(),
                        min, max));
                return sampled;
            }
            return v;
        }

        /** The first step where the schedule did not fit the run, or null when it fitted throughout. */
        public Divergence divergence() {
            return divergence;
        }

        private void diverged(Divergence.Kind kind, long step, int choice, int ready) {
            if (divergence == null && !ended) {
                divergence = new Divergence(kind, step + 1, choice, ready, choices.size(), null);
            }
        }

        private void divergedDraw(Divergence.Kind kind, String what) {
            if (divergence == null && !ended) {
                // The draw is taken while the mailbox chosen at the last step runs.
                divergence = new Divergence(kind, step + 1, -1, 0, choices.size(), what);
            }
        }
    }
}
