package dev.vcpuemu.engine;

import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.model.TestSettings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The raw Pekko yardstick of {@code bench} passes balls on every dispatcher and stops at its flag. */
class BaselineTest {
    @ParameterizedTest
    @EnumSource(Baseline.Dispatcher.class)
    void everyPlayerKeepsItsBallMovingUntilTheStop(Baseline.Dispatcher dispatcher) throws Exception {
        // Five actors: two pairs and one that plays with itself.
        Baseline.Result r = Baseline.run(dispatcher, TestSettings.interrupt().build(), ConfigFactory.load(), 5,
                Duration.ofMillis(200));
        assertTrue(r.messages() > 5 * 100, "every ball went back and forth many times: " + r);
        assertTrue(r.wallSeconds() >= 0.2, r.toString());
    }
}
