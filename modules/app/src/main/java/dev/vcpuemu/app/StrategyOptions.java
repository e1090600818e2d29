package dev.vcpuemu.app;

import dev.vcpuemu.app.det.StrategySpec;
import picocli.CommandLine.Option;

/** The schedule strategy of the deterministic engine, shared by run, replay and explore. */
final class StrategyOptions {
    @Option(names = "--strategy", paramLabel = "random|pct|windows", defaultValue = "random",
            description = "How the deterministic engine picks the next ready mailbox and times NMIs and completions: "
                    + "uniform random, PCT (priorities with random change points), or (explore only) windows: "
                    + "one random run, then NMIs and completions aimed at each protocol window it showed, then PCT. "
                    + "Default: ${DEFAULT-VALUE}.")
    StrategySpec.Kind strategy;

    @Option(names = "--window-runs", paramLabel = "N", defaultValue = "32",
            description = "windows: aimed runs after the first, at most (one per window boundary, earliest first) "
                    + "before PCT takes over. Default: ${DEFAULT-VALUE}.")
    int windowRuns;

    @Option(names = "--pct-depth", paramLabel = "D", defaultValue = "3",
            description = "PCT: bug depth; D-1 priority change points. Default: ${DEFAULT-VALUE}.")
    int pctDepth;

    @Option(names = "--pct-horizon", paramLabel = "STEPS",
            description = "PCT: scheduling steps the change points are drawn from (about the steps a run takes). "
                    + "Default: explore measures one run; run and replay use " + StrategySpec.DEFAULT_HORIZON + ".")
    Long pctHorizon;

    @Option(names = "--max-steps", paramLabel = "N",
            description = "End a deterministic run after N scheduling steps (endReason \"step budget\").")
    Long maxSteps;

    StrategySpec spec(long horizon) {
        return new StrategySpec(strategy, pctDepth, pctHorizon != null ? pctHorizon : horizon, windowRuns);
    }

    /** Null when valid, else the one-line problem. */
    String problem() {
        if (pctDepth < 1) {
            return "--pct-depth: must be at least 1, got " + pctDepth;
        }
        if (pctHorizon != null && pctHorizon < 1) {
            return "--pct-horizon: must be at least 1, got " + pctHorizon;
        }
        if (windowRuns < 0) {
            return "--window-runs: must be at least 0, got " + windowRuns;
        }
        if (maxSteps != null && maxSteps < 1) {
            return "--max-steps: must be at least 1, got " + maxSteps;
        }
        return null;
    }

    /** Null when valid for one run (run, replay), else the one-line problem. */
    String problemForOneRun() {
        if (strategy == StrategySpec.Kind.windows) {
            return "--strategy windows: aims the runs of a search at the windows of its first run; "
                    + "explore only (replay follows the schedule explore writes)";
        }
        return problem();
    }

    long maxStepsOrUnbounded() {
        return maxSteps == null ? Long.MAX_VALUE : maxSteps;
    }
}
