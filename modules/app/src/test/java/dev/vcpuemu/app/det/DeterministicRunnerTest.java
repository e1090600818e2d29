package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.LoadedSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Explore loads its topology once and changes only the seed: the same settings as a load per seed. */
class DeterministicRunnerTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));

    @Test
    void aSeedOnTheLoadedTopologyIsTheTopologyLoadedWithThatSeed() throws Exception {
        for (String file : List.of("default.conf", "scenarios/hazard-i-nmi-window.conf", "nested-kvm.conf")) {
            DeterministicRunner runner = new DeterministicRunner(Optional.of(CONF.resolve(file)),
                    List.of("run.duration=5ms", "topology.vcpus=2"));
            for (long seed : new long[] {1, 42, -7}) {
                LoadedSettings once = runner.forSeed(seed);
                LoadedSettings each = runner.load(seed, List.of());
                assertEquals(each.settings(), once.settings(), file + " seed " + seed);
                assertEquals(each.config().getLong("vcpu-emu.run.seed"), once.config().getLong("vcpu-emu.run.seed"));
                assertEquals(each.sets(), once.sets());
                assertEquals(each.source(), once.source());
            }
        }
    }
}
