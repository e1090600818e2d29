package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.det.Divergence;
import dev.vcpuemu.engine.det.Draw;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.RunResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Timing draws are choice points of the deterministic engine (Coyote's controlled random): the
 * schedule records every NMI arrival, swap-in latency and eviction with its value, replay
 * follows the recorded values, and a strategy that chooses another value inside a draw's range
 * gets a run that its own recording replays to the same hash.
 */
class TimingDrawsTest {
    private static final Path TOPOLOGY = Path.of(System.getProperty("vcpuemu.conf", "../../conf"))
            .resolve("scenarios/hazard-i-nmi-window.conf");

    private final DeterministicRunner runner = new DeterministicRunner(Optional.of(TOPOLOGY),
            List.of("run.duration=2ms", "run.report=\"\"", "host.memory.evict-rate=20"));

    private RunResult run(Strategy strategy, Schedule record) throws Exception {
        return DeterministicRunner.run(runner.forSeed(42), strategy, null, Long.MAX_VALUE, record, null);
    }

    @Test
    void everyTimingDrawIsRecordedWithItsValueAndRangeAndRandomKeepsTheActorsOwnDraws() throws Exception {
        Schedule recorded = new Schedule();
        RunResult r = run(Strategy.uniform(42), recorded);
        for (Draw.Site site : Draw.Site.values()) {
            assertTrue(recorded.draws().stream().anyMatch(d -> d.draw().site() == site), "no " + site + " draw recorded");
        }
        assertEquals(0, recorded.drawDepartures(), "random keeps every actor's own draw");
        recorded.draws().forEach(d -> assertTrue(d.min() <= d.value() && d.value() <= d.max(), d.toString()));
        // The same run without recording: recording changes nothing.
        assertEquals(r.traceHash(), run(Strategy.uniform(42), null).traceHash());
    }

    @Test
    void aRecordedScheduleReplaysItsTimingChoicesToTheSameHash(@TempDir Path dir) throws Exception {
        Schedule probe = new Schedule();
        RunResult plain = run(Strategy.uniform(42), probe);
        // Move the tenth NMI arrival to the far end of its range: another timing, another run.
        Schedule.Recorded tenth = probe.draws().stream()
                .filter(d -> d.draw().site() == Draw.Site.NMI_ARRIVAL && d.draw().n() == 10).findFirst().orElseThrow();
        long moved = tenth.value() == tenth.max() ? tenth.min() : tenth.max();
        Schedule aimedRecord = new Schedule();
        RunResult aimed = run(Strategy.aimed(Strategy.uniform(42), Map.of(tenth.draw(), moved)), aimedRecord);
        assertNotEquals(plain.traceHash(), aimed.traceHash(), "the moved NMI changes the run");
        assertEquals(1, aimedRecord.drawDepartures(), "exactly the aimed draw departs from its generator");
        assertEquals(moved, aimedRecord.valueOf(tenth.draw()));

        // Through a file and back, replay follows the recorded value: the aimed run's hash, no misfit.
        Path file = dir.resolve("aimed.gz");
        aimedRecord.write(file);
        Schedule read = Schedule.read(file);
        assertEquals(aimedRecord.draws(), read.draws());
        Strategy.Replay replay = Strategy.replay(read);
        assertEquals(aimed.traceHash(), run(replay, null).traceHash());
        assertNull(replay.divergence());

        // The plain run's scheduling choices with the aimed value: the value alone makes the difference.
        Schedule valueOnly = Schedule.of(probe.toArray(), List.of(aimedRecord.draws().stream()
                .filter(d -> d.draw().equals(tenth.draw())).findFirst().orElseThrow()));
        RunResult followed = run(Strategy.replay(valueOnly), null);
        assertNotEquals(plain.traceHash(), followed.traceHash());
    }

    @Test
    void aScheduleLackingADrawOrHoldingAnImpossibleValueIsReportedAtItsStep() throws Exception {
        Schedule probe = new Schedule();
        run(Strategy.uniform(42), probe);
        List<Schedule.Recorded> draws = probe.draws();
        Schedule missing = Schedule.of(probe.toArray(), draws.subList(1, draws.size()));
        Strategy.Replay replay = Strategy.replay(missing);
        run(replay, null);
        assertEquals(Divergence.Kind.DRAW_MISSING, replay.divergence().kind());
        assertTrue(replay.divergence().describe().contains(draws.get(0).draw().describe()), replay.divergence().describe());

        Schedule.Recorded first = draws.get(0);
        Schedule outOfRange = Schedule.of(probe.toArray(), List.of(new Schedule.Recorded(first.draw(),
                first.max() + 1, first.min(), first.max(), true)));
        Strategy.Replay bad = Strategy.replay(outOfRange);
        run(bad, null);
        assertEquals(Divergence.Kind.DRAW_OUT_OF_RANGE, bad.divergence().kind());

        // Scheduling choices alone (a version 1 file) leave the draws to the actors: no misfit.
        Strategy.Replay untimed = Strategy.replay(Schedule.of(probe.toArray()));
        run(untimed, null);
        assertFalse(untimed.divergence() != null && untimed.divergence().draw() != null);
    }
}
