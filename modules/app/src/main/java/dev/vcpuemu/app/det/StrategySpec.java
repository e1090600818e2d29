package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;

/**
 * A schedule strategy as chosen on the command line (DESIGN §3): uniform random choice of the
 * next mailbox, or PCT with {@code depth - 1} change points over the first {@code horizon}
 * scheduling steps. Its generator is seeded from the run seed, so (topology, seed, mailbox
 * throughput, strategy) replays a run. {@code windows} is a plan over the runs of a search
 * ({@link WindowAims}): one random run, up to {@code windowRuns} runs aimed at its protocol
 * windows, then PCT.
 */
public record StrategySpec(Kind kind, int pctDepth, long pctHorizon, int windowRuns) {
    public enum Kind { random, pct, windows }

    /** Change points beyond the steps a run takes are never reached: explore measures a run for this. */
    public static final long DEFAULT_HORIZON = 100_000;

    public static StrategySpec random() {
        return new StrategySpec(Kind.random, 3, DEFAULT_HORIZON, 0);
    }

    /**
     * The strategy of one run with {@code seed}: random or PCT; for {@code windows}, the
     * strategy of its first run (random).
     */
    public Strategy create(long seed, Schedule replay) {
        if (replay != null) {
            return Strategy.replay(replay);
        }
        return kind == Kind.pct ? Strategy.pct(seed, pctDepth, pctHorizon) : Strategy.uniform(seed);
    }

    public StrategySpec withHorizon(long horizon) {
        return new StrategySpec(kind, pctDepth, horizon, windowRuns);
    }

    /** PCT with this depth and horizon: where {@code windows} goes after its aimed runs. */
    public StrategySpec pct() {
        return new StrategySpec(Kind.pct, pctDepth, pctHorizon, 0);
    }

    /** The command-line words that select this strategy for one run (none for the default). */
    public String args() {
        return kind != Kind.pct ? "" : " --strategy pct --pct-depth " + pctDepth + " --pct-horizon " + pctHorizon;
    }

    public String describe() {
        return switch (kind) {
            case random -> "random";
            case pct -> "pct (depth " + pctDepth + ", horizon " + pctHorizon + " steps)";
            case windows -> "windows (one random run, up to " + windowRuns + " runs aimed at its windows, then pct, "
                    + "depth " + pctDepth + ", horizon " + pctHorizon + " steps)";
        };
    }
}
