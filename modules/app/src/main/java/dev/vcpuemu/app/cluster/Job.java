package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;

import java.util.List;

/**
 * What every node of an explore farm runs: the topology (as the coordinator resolved it, so that
 * a node on another machine needs no copy of any file), the {@code --set} overrides, the strategy, what stops a run,
 * and run {@code i}'s seed, {@code firstSeed + i}. A node that runs run {@code i} of a job runs
 * exactly what {@code explore} on one JVM runs as its run {@code i}: the same seed, strategy and
 * settings.
 *
 * @param topologyName the topology file's name (no directory): what a node calls its copy
 * @param topologyText the coordinator's resolved {@code vcpu-emu} configuration, as HOCON
 * @param stop         what ends a run and makes it failing
 * @param find         the kind of {@code --find}, with {@link Stop#FIND}; else null
 */
public record Job(String topologyName, String topologyText, List<String> sets, StrategySpec strategy, Stop stop,
                  FindingKind find, long maxSteps, long firstSeed) implements ClusterMessage {

    /** {@link StopRule}'s three kinds, as a value: the expect block is the topology's own. */
    public enum Stop { FIND, UNEXPECTED, EMULATOR_FAILURE }

    public Job {
        sets = List.copyOf(sets);
    }

    public static Stop stopOf(StopRule rule) {
        return rule.find() != null ? Stop.FIND : rule.expect() != null ? Stop.UNEXPECTED : Stop.EMULATOR_FAILURE;
    }

    /** The stop rule on a node, with the topology's expect block. */
    public StopRule stopRule(Settings.Expect expect) {
        return switch (stop) {
            case FIND -> StopRule.find(find);
            case UNEXPECTED -> StopRule.unexpected(expect);
            case EMULATOR_FAILURE -> StopRule.emulatorFailure();
        };
    }
}
