package dev.vcpuemu.app.cluster;

import com.typesafe.config.ConfigRenderOptions;
import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

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

    /**
     * The job of a search of {@code topology} as {@code resolved} here (its includes and the
     * {@code --set}s too, so that a node needs no file of its own), checked to load on a node into
     * exactly the settings it has here.
     */
    public static Job of(Path topology, LoadedSettings resolved, List<String> sets, StrategySpec strategy, StopRule stop,
                         long maxSteps, long firstSeed) throws IOException, ConfigProblem {
        Job job = new Job(topology.getFileName().toString(), resolvedText(topology, resolved), sets, strategy, stopOf(stop),
                stop.find(), maxSteps,
                firstSeed);
        Path dir = Files.createTempDirectory("vcpu-emu-job");
        try {
            if (!job.runner(dir).forSeed(firstSeed).settings().equals(resolved.settings())) {
                throw new IllegalStateException("the topology as sent to the nodes does not load as it does here");
            }
        } finally {
            delete(dir);
        }
        return job;
    }

    /** The {@code vcpu-emu} configuration as {@code resolved} here (includes, {@code --set}s), as HOCON a node loads. */
    static String resolvedText(Path topology, LoadedSettings resolved) {
        return "# " + topology + ", resolved by the coordinator\n" + resolved.config().withOnlyPath("vcpu-emu")
                .root().render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false));
    }

    /** The job's runs on a node: the topology written into {@code dir}, the job's overrides over it. */
    public DeterministicRunner runner(Path dir) throws IOException {
        return new DeterministicRunner(Optional.of(Files.writeString(dir.resolve(topologyName), topologyText)), sets);
    }

    /** Deletes a node's copy of a job (a temporary directory); one left behind is harmless. */
    static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // A temporary copy left behind is harmless.
        }
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
