package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.ProtocolWindow;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The windows strategy on hazard (i) at perf's realistic 4 kHz (reference §4(i)): the first run
 * shows the windows, the aimed runs land an NMI on their boundaries, and the stolen word is found
 * within ten runs; shrinking the failing run reaches an interleaving at most twice the size of the
 * scripted step table ({@code NmiWindowTest}: 16 vCPU events to the stolen word).
 */
class WindowsStrategyTest {
    private static final Path TOPOLOGY = Path.of(System.getProperty("vcpuemu.conf", "../../conf"))
            .resolve("scenarios/hazard-i-nmi-window.conf");
    private static final List<String> PERF_4KHZ = List.of("run.duration=5ms", "run.report=\"\"",
            "nmi.sources=[{name=perf, targets=[], interval=250us, jitter=0.5, user-read-probability=0.8}]");
    /** NmiWindowTest.SCRIPTED_EVENTS_TO_STOLEN_WORD, in another module's tests. */
    private static final int SCRIPTED_EVENTS = 16;

    private final DeterministicRunner runner = new DeterministicRunner(Optional.of(TOPOLOGY), PERF_4KHZ);
    private final StrategySpec windows = new StrategySpec(StrategySpec.Kind.windows, 3, 10_000, 32);

    @Test
    void theAimedRunsFindTheStolenWordWithinTenRuns() throws Exception {
        for (long base : new long[] {1000, 2000, 3000}) {
            Explorer explorer = new Explorer(runner, windows, StopRule.find(FindingKind.APF_WORD_STOLEN), Long.MAX_VALUE, 2);
            Explorer.Outcome o = explorer.run(base, 10, Long.MAX_VALUE);
            assertNotNull(o.failure(), "base seed " + base + ": no stolen word in 10 runs");
            assertTrue(o.failure().plan().index() < 10);
            assertFalse(explorer.aims().isEmpty());
            assertTrue(explorer.aims().stream().anyMatch(a -> a.window().kind() == ProtocolWindow.APF_WORD_UNREAD));
            // Each aim moves one draw earlier, inside its range: the run up to the boundary is the first run.
            explorer.aims().forEach(a -> assertEquals(1, a.values().size()));
        }
    }

    @Test
    void anAimedRunIsReplayedFromItsScheduleAlone() throws Exception {
        Explorer explorer = new Explorer(runner, windows, StopRule.find(FindingKind.APF_WORD_STOLEN), Long.MAX_VALUE, 1);
        Explorer.Failure failure = explorer.run(1, 10, Long.MAX_VALUE).failure();
        assertNotNull(failure.plan().aim(), "found by an aimed run");
        Schedule record = new Schedule();
        RunResult again = DeterministicRunner.run(runner.forSeed(failure.seed()), failure.plan().strategy(),
                StopRule.find(FindingKind.APF_WORD_STOLEN), Long.MAX_VALUE, record, null);
        assertEquals(failure.result().traceHash(), again.traceHash());
        assertEquals(1, record.drawDepartures());
        RunResult replayed = DeterministicRunner.run(runner.forSeed(failure.seed()), Strategy.replay(record),
                StopRule.find(FindingKind.APF_WORD_STOLEN), Long.MAX_VALUE, null, null);
        assertEquals(again.traceHash(), replayed.traceHash());
    }

    @Test
    void shrinkingReachesAtMostTwiceTheScriptedStepTable() throws Exception {
        Explorer explorer = new Explorer(runner, windows, StopRule.find(FindingKind.APF_WORD_STOLEN), Long.MAX_VALUE, 1);
        Explorer.Failure failure = explorer.run(1, 10, Long.MAX_VALUE).failure();
        StringWriter log = new StringWriter();
        Shrinker.Result s = new Shrinker(runner, windows, FindingKind.APF_WORD_STOLEN, Long.MAX_VALUE,
                60_000_000_000L, new PrintWriter(log)).shrink(List.of(), failure.plan());
        assertTrue(s.run().findings().getOrDefault(FindingKind.APF_WORD_STOLEN, 0L) > 0, log.toString());
        assertTrue(s.events() < s.originalEvents(), s.events() + " vs " + s.originalEvents());
        assertTrue(s.events() <= 2 * SCRIPTED_EVENTS, "shrunk to " + s.events() + " events\n" + log);
        // The timing that matters is what is left: the aimed NMI, nothing else.
        assertEquals(1, s.schedule().drawDepartures(), log.toString());
        assertEquals(0, s.schedule().deviations(), "one vCPU: no scheduling choice matters");
    }
}
