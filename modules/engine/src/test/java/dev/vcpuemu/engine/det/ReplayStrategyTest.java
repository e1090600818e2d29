package dev.vcpuemu.engine.det;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The replay strategy against scripted ready-list sizes, stepped as {@link SeededExecutor}
 * steps it: {@code choose} with two or more ready mailboxes, {@code onlyOne} with one, and
 * {@code runEnded} at the result.
 */
class ReplayStrategyTest {

    /** Steps {@code replay} through ready lists of {@code sizes}, then ends the run; returns the indices run. */
    private static List<Integer> drive(Strategy.Replay replay, int... sizes) {
        List<Integer> ran = new ArrayList<>();
        for (int step = 0; step < sizes.length; step++) {
            if (sizes[step] == 1) {
                replay.onlyOne(step);
                ran.add(0);
            } else {
                ran.add(replay.choose(Collections.nCopies(sizes[step], (Runnable) () -> { }), step));
            }
        }
        replay.runEnded(sizes.length);
        return ran;
    }

    @Test
    void aScheduleThatFitsIsFollowedAndReportsNothing() {
        Strategy.Replay replay = Strategy.replay(Schedule.of(2, 0, 0, 1));
        assertEquals(List.of(2, 0, 0, 1), drive(replay, 3, 1, 2, 2));
        assertNull(replay.divergence());
    }

    @Test
    void aChoiceBeyondTheReadyListTakesSlotZeroAndIsTheFirstDivergence() {
        Strategy.Replay replay = Strategy.replay(Schedule.of(1, 7, 1, 5));
        // Step 2 chose 7 of 3, step 4 chose 5 of 2: both run slot 0, the first is the one reported.
        assertEquals(List.of(1, 0, 1, 0), drive(replay, 2, 3, 2, 2));
        Divergence d = replay.divergence();
        assertEquals(new Divergence(Divergence.Kind.CHOICE_OUT_OF_RANGE, 2, 7, 3, 4, null), d);
        assertEquals("at step 2 it chose mailbox 7 of 3 ready (they are 0 to 2)", d.describe());
    }

    @Test
    void aNonZeroChoiceWhereOneMailboxWasReadyDoesNotFit() {
        Strategy.Replay replay = Strategy.replay(Schedule.of(0, 1, 0));
        drive(replay, 2, 1, 2);
        assertEquals(new Divergence(Divergence.Kind.CHOICE_OUT_OF_RANGE, 2, 1, 1, 3, null), replay.divergence());
        assertEquals("at step 2 it chose mailbox 1 of 1 ready (the only one is 0)", replay.divergence().describe());
    }

    @Test
    void aScheduleThatRunsOutIsReportedAtTheFirstStepWithoutAChoice() {
        Strategy.Replay replay = Strategy.replay(Schedule.of(1, 1));
        assertEquals(List.of(1, 1, 0, 0), drive(replay, 2, 2, 1, 3));
        Divergence d = replay.divergence();
        assertEquals(new Divergence(Divergence.Kind.SCHEDULE_EXHAUSTED, 3, -1, 1, 2, null), d);
        assertEquals("its 2 choices ran out at step 3 of a run that went on", d.describe());
    }

    @Test
    void aRunThatEndsBeforeTheScheduleDoesReportsTheChoicesLeft() {
        Strategy.Replay replay = Strategy.replay(Schedule.of(1, 0, 1, 0, 2500));
        drive(replay, 2, 2, 2);
        Divergence d = replay.divergence();
        assertEquals(new Divergence(Divergence.Kind.RUN_ENDED, 3, -1, 0, 5, null), d);
        assertEquals("the run ended at step 3 with 2 of its 5 choices left", d.describe());
    }

    @Test
    void aNegativeChoiceIsNoSchedule(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("edited.gz");
        try (var out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write("vcpu-emu-schedule 1 steps=3\n0 -1 2\n".getBytes(StandardCharsets.US_ASCII));
        }
        IOException e = assertThrows(IOException.class, () -> Schedule.read(file));
        assertEquals("choice 2 is negative: -1", e.getMessage());
    }

    @Test
    void stepsAfterTheRunEndedAreNotItsOwn() {
        // Stopping the actors after the result takes steps the schedule never recorded.
        Strategy.Replay replay = Strategy.replay(Schedule.of(1, 0));
        drive(replay, 2, 2);
        assertEquals(0, replay.choose(Collections.nCopies(4, (Runnable) () -> { }), 2));
        replay.onlyOne(3);
        assertNull(replay.divergence());
    }
}
