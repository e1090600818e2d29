package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.run.RunResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * DESIGN §3 on every topology of {@code conf/}: ten deterministic runs with one seed give one
 * trace hash, and ten seeds give ten hashes. Short simulated durations keep it quick; the
 * property does not depend on the length.
 */
class DeterminismTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));

    static Stream<Path> topologies() throws IOException {
        try (Stream<Path> files = Files.walk(CONF)) {
            return files.filter(f -> f.toString().endsWith(".conf")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("topologies")
    void oneSeedOneHashTenSeedsTenHashes(Path topology) throws Exception {
        DeterministicRunner runner = new DeterministicRunner(Optional.of(topology),
                List.of("run.duration=1ms", "run.report=\"\""));
        Set<String> sameSeed = new HashSet<>();
        List<String> summary = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            RunResult r = DeterministicRunner.run(runner.load(42, List.of()), StrategySpec.random(), null,
                    Long.MAX_VALUE, null, null, null, p -> { });
            assertNotNull(r.traceHash());
            sameSeed.add(r.traceHash());
            summary.add(r.endReason() + "@" + r.simulatedNanos());
        }
        assertEquals(1, sameSeed.size(), topology + ": one seed gave " + sameSeed + " " + summary);

        Set<String> seeds = new HashSet<>();
        for (long seed = 1; seed <= 10; seed++) {
            seeds.add(DeterministicRunner.run(runner.load(seed, List.of()), StrategySpec.random(), null,
                    Long.MAX_VALUE, null, null, null, p -> { }).traceHash());
        }
        assertEquals(10, seeds.size(), topology + ": ten seeds gave " + seeds.size() + " hashes");
    }
}
