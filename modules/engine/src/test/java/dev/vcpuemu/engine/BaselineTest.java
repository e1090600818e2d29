package dev.vcpuemu.engine;

import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.model.TestSettings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

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
        assertTrue(r.leastPerActor() > 100, "every player's ball went back and forth many times: " + r);
        assertTrue(r.wallSeconds() >= 0.2, r.toString());
    }

    /**
     * With many players on both threads of the concurrent dispatcher, no pair keeps a thread to
     * itself: served from outside the pool, two players of 1,000 carried every message.
     */
    @ParameterizedTest
    @ValueSource(ints = {64, 1_000})
    void onTheConcurrentDispatcherEveryPlayerTakesItsTurn(int actors) throws Exception {
        Baseline.Result r = Baseline.run(Baseline.Dispatcher.CONCURRENT,
                TestSettings.interrupt().vcpus(actors).parallelism(2).build(), ConfigFactory.load(), actors,
                Duration.ofMillis(300));
        assertTrue(r.leastPerActor() > 10, "the least busy player got " + r.leastPerActor() + " of " + r);
    }
}
