package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vcpuemu.engine.det.Schedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code replay --schedule} checks the schedule against the run, in this JVM: a schedule
 * recorded for another topology, cut short or made longer is named with its first divergent
 * step; {@code --strict} makes that bad input. Each run is 5 ms of simulated time.
 */
class ReplayCommandTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf")).toAbsolutePath();
    private static final String WINDOW = CONF.resolve("scenarios/hazard-i-nmi-window.conf").toString();
    private static final String NO_NMI = CONF.resolve("no-nmi.conf").toString();

    @TempDir
    Path tmp;

    private static InProcess.Outcome execute(String... args) {
        return InProcess.execute(args);
    }

    /** {@code replay TOPOLOGY --seed 3 --duration 5ms --report REPORT} and {@code more}. */
    private InProcess.Outcome replay(String topology, String report, String... more) {
        List<String> args = new ArrayList<>(List.of("replay", topology, "--seed", "3", "--duration", "5ms",
                "--report", tmp.resolve(report).toString()));
        args.addAll(List.of(more));
        return execute(args.toArray(String[]::new));
    }

    private JsonNode report(String name) throws IOException {
        return new ObjectMapper().readTree(tmp.resolve(name).toFile());
    }

    @Test
    void aScheduleIsCheckedAgainstTheRunItIsReplayedIn() throws IOException {
        Path recorded = tmp.resolve("schedule.gz");
        InProcess.Outcome first = replay(WINDOW, "recorded.json", "--schedule-out", recorded.toString());
        assertEquals(0, first.exit(), first.out() + first.err());
        long steps = report("recorded.json").get("schedulingSteps").asLong();
        Schedule schedule = Schedule.read(recorded);
        assertEquals(steps, schedule.size());

        // Its own run: followed to the end, the same trace, nothing new printed.
        InProcess.Outcome own = replay(WINDOW, "own.json", "--schedule", recorded.toString(), "--strict");
        assertEquals(0, own.exit(), own.out() + own.err());
        assertFalse(own.err().contains("does not fit"), own.err());
        JsonNode ownReport = report("own.json");
        assertEquals(report("recorded.json").get("traceHash"), ownReport.get("traceHash"));
        assertTrue(ownReport.get("schedule").get("fits").asBoolean(), ownReport.toString());

        // Another topology: replayed on, with one line naming the file and the first divergent step.
        InProcess.Outcome other = replay(NO_NMI, "other.json", "--schedule", recorded.toString());
        assertEquals(0, other.exit(), other.out() + other.err());
        String line = other.err().strip();
        assertEquals(1, line.lines().count(), line);
        // The first misfit is a timing draw: the other topology's NMI source has another interval.
        assertTrue(line.matches("\\Q" + recorded + "\\E does not fit this run: at step [0-9,]+ the schedule's value"
                + " [0-9,]+ for the NMI arrival \\d+ of source 0 \\(guest 0\\) is outside its range [0-9,]+ to [0-9,]+;"
                + " replayed on, the actor's own draw wherever a recorded value is missing or does not fit"), line);
        JsonNode divergence = report("other.json").get("schedule").get("divergence");
        assertEquals("DRAW_OUT_OF_RANGE", divergence.get("kind").asText());
        assertFalse(report("other.json").get("schedule").get("fits").asBoolean());

        // --strict: bad input, the one line, and an earlier report left as it was.
        Files.writeString(tmp.resolve("strict.json"), "{\"earlier\": true}");
        InProcess.Outcome strict = replay(NO_NMI, "strict.json", "--schedule", recorded.toString(), "--strict");
        assertEquals(Main.BAD_INPUT, strict.exit(), strict.out() + strict.err());
        assertEquals(line.substring(0, line.indexOf(';')) + "; --strict: nothing written", strict.err().strip());
        assertEquals("{\"earlier\": true}", Files.readString(tmp.resolve("strict.json")));
    }

    @Test
    void aScheduleCutShortOrMadeLongerSaysWhereItStoppedFitting() throws IOException {
        Path recorded = tmp.resolve("schedule.gz");
        assertEquals(0, replay(WINDOW, "recorded.json", "--schedule-out", recorded.toString()).exit());
        int[] choices = Schedule.read(recorded).toArray();

        Path cut = tmp.resolve("cut.gz");
        Schedule.of(Arrays.copyOf(choices, 100)).write(cut);
        InProcess.Outcome shorter = replay(WINDOW, "cut.json", "--schedule", cut.toString());
        assertEquals(cut + " does not fit this run: its 100 choices ran out at step 101 of a run that went on;"
                + " replayed on with the default choice (slot 0) from there", shorter.err().strip());
        assertEquals(101, report("cut.json").get("schedule").get("divergence").get("step").asLong());

        Path longer = tmp.resolve("longer.gz");
        Schedule.of(Arrays.copyOf(choices, choices.length + 50)).write(longer);
        InProcess.Outcome extra = replay(WINDOW, "longer.json", "--schedule", longer.toString(), "--strict");
        assertEquals(Main.BAD_INPUT, extra.exit(), extra.out() + extra.err());
        assertEquals(String.format("%s does not fit this run: the run ended at step %,d with 50 of its %,d choices left;"
                + " --strict: nothing written", longer, choices.length, choices.length + 50), extra.err().strip());
        assertFalse(Files.exists(tmp.resolve("longer.json")));

        // The windows strategy plans the runs of a search: one run cannot take it.
        InProcess.Outcome windows = replay(WINDOW, "windows.json", "--strategy", "windows");
        assertEquals(Main.BAD_INPUT, windows.exit(), windows.out() + windows.err());
        assertEquals("--strategy windows: aims the runs of a search at the windows of its first run; explore only"
                + " (replay follows the schedule explore writes)", windows.err().strip());
        assertFalse(Files.exists(tmp.resolve("windows.json")));

        InProcess.Outcome alone = replay(WINDOW, "alone.json", "--strict");
        assertEquals(Main.BAD_INPUT, alone.exit());
        assertEquals("--strict: needs --schedule (it checks a recorded schedule against the run)", alone.err().strip());
    }
}
