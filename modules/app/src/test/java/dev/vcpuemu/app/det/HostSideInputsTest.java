package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.run.InputTiming;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.InputKind;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rule of time (DESIGN §3) on every topology we ship: NMIs, completions and evictions have
 * lookahead, so each must land at exactly its due boundary, on the deterministic engine and on
 * the concurrent one, whatever the threads did. The report's {@code timing} block counts them.
 */
class HostSideInputsTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));

    @Test
    void noHostSideInputIsLateOnAnyConfFileOnEitherEngine() throws Exception {
        List<String> late = new ArrayList<>();
        long landed = 0;
        for (Path file : topologies()) {
            DeterministicRunner runner = new DeterministicRunner(Optional.of(file),
                    List.of("run.duration=5ms", "run.report=\"\""));
            LoadedSettings loaded = runner.load(1, List.of());
            RunResult det = DeterministicRunner.run(loaded, StrategySpec.random(), null, Long.MAX_VALUE, null, null, null,
                    p -> { });
            landed += check(file + " (deterministic)", det, late);

            Settings s = loaded.settings();
            RunResult conc = Simulation.run(s, loaded.config(), RunControl.wallClock(Duration.ofMillis(300),
                    Duration.ofMillis(300)), p -> { });
            landed += check(file + " (concurrent)", conc, late);
        }
        assertEquals(List.of(), late, "host-side inputs that missed their boundary");
        assertTrue(landed > 10_000, "host-side inputs were exercised: " + landed);
    }

    /** Appends each late host-side kind of {@code r} to {@code late}; returns how many host-side inputs landed. */
    private static long check(String run, RunResult r, List<String> late) {
        long landed = 0;
        for (InputKind kind : InputKind.values()) {
            InputTiming t = r.timing().get(kind.key);
            if (!kind.hostSide || t == null) {
                continue;
            }
            assertTrue(t.hostSide(), kind.key);
            landed += t.exact() + t.late();
            if (t.late() > 0) {
                late.add(run + ": " + kind.key + " " + t.late() + " late of " + (t.exact() + t.late())
                        + ", max " + t.lateness().max() + " ns");
            }
        }
        return landed;
    }

    private static List<Path> topologies() throws IOException {
        try (Stream<Path> files = Files.walk(CONF)) {
            return files.filter(f -> f.toString().endsWith(".conf")).sorted().toList();
        }
    }
}
