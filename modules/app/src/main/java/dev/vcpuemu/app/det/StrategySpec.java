package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;

/**
 * A schedule strategy as chosen on the command line (DESIGN §3): uniform random choice of the
 * next mailbox, or PCT with {@code depth - 1} change points over the first {@code horizon}
 * scheduling steps. Its generator is seeded from the run seed, so (topology, seed, mailbox
 * throughput, strategy) replays a run.
 */
public record StrategySpec(Kind kind, int pctDepth, long pctHorizon) {
    public enum Kind { random, pct }

    /** Change points beyond the steps a run takes are never reached: explore measures a run for this. */
    public static final long DEFAULT_HORIZON = 100_000;

    public static StrategySpec random() {
        return new StrategySpec(Kind.random, 3, DEFAULT_HORIZON);
    }

    public Strategy create(long seed, Schedule replay) {
        if (replay != null) {
            return Strategy.replay(replay);
        }
        return kind == Kind.random ? Strategy.uniform(seed) : Strategy.pct(seed, pctDepth, pctHorizon);
    }

    public StrategySpec withHorizon(long horizon) {
        return new StrategySpec(kind, pctDepth, horizon);
    }

    /** The command-line words that select this strategy (none for the default). */
    public String args() {
        return kind == Kind.random ? "" : " --strategy pct --pct-depth " + pctDepth + " --pct-horizon " + pctHorizon;
    }

    public String describe() {
        return kind == Kind.random ? "random" : "pct (depth " + pctDepth + ", horizon " + pctHorizon + " steps)";
    }
}
