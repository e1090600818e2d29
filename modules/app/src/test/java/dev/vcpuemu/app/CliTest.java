package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vcpuemu.model.finding.FindingKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line as picocli parses it, in this JVM: help and version everywhere, and bad
 * input that names what the user typed. Nothing here runs a simulation.
 */
class CliTest {
    /** Every subcommand that runs something. */
    static final List<String> COMMANDS = List.of("run", "explore", "replay", "validate", "soak", "bench", "matrix", "node");

    @TempDir
    Path tmp;

    private static InProcess.Outcome execute(String... args) {
        return InProcess.execute(args);
    }

    @Test
    void everySubcommandPrintsItsHelpWithDashHAndDashDashHelpAndExitsZero() {
        for (String command : COMMANDS) {
            for (String flag : List.of("-h", "--help")) {
                InProcess.Outcome o = execute(command, flag);
                assertEquals(0, o.exit(), command + " " + flag + ": " + o.err());
                assertTrue(o.out().startsWith("Usage: vcpu-emu " + command + " "), command + " " + flag + ": " + o.out());
                assertEquals("", o.err(), command + " " + flag);
            }
            InProcess.Outcome help = execute("help", command);
            assertEquals(0, help.exit(), "help " + command + ": " + help.err());
            assertTrue(help.out().startsWith("Usage: vcpu-emu " + command + " "), "help " + command);
        }
    }

    @Test
    void everySubcommandPrintsTheVersionWithCommitAndBuildDate() {
        for (String command : COMMANDS) {
            InProcess.Outcome o = execute(command, "--version");
            assertEquals(0, o.exit(), command + ": " + o.err());
            List<String> lines = o.out().lines().toList();
            assertEquals("vcpu-emu " + Main.version(), lines.get(0), o.out());
            assertTrue(lines.get(1).startsWith("commit " + BuildInfo.commit()), o.out());
            assertTrue(lines.get(2).equals("built " + BuildInfo.date()), o.out());
        }
        // The Maven build writes the build information; a commit is 40 hex digits or "unknown".
        assertFalse(BuildInfo.date().equals(BuildInfo.UNKNOWN), "build-info.properties is on the class path");
        assertTrue(BuildInfo.commit().matches("[0-9a-f]{40}|unknown"), BuildInfo.commit());
    }

    @Test
    void generateCompletionPrintsABashScriptForEverySubcommand() {
        InProcess.Outcome o = execute("generate-completion");
        assertEquals(0, o.exit(), o.err());
        for (String command : COMMANDS) {
            assertTrue(o.out().contains("_picocli_vcpu-emu_" + command + "()"), command);
        }
    }

    @Test
    void aBadCommandLineIsOneLineAndAPointerToTheHelp() {
        InProcess.Outcome o = execute("run", "--bogus");
        assertEquals(Main.BAD_INPUT, o.exit());
        assertEquals(List.of("vcpu-emu run: Unknown option: '--bogus'", "Try 'vcpu-emu run --help' for more information."),
                o.err().lines().toList());
        InProcess.Outcome none = execute();
        assertEquals(Main.BAD_INPUT, none.exit());
        assertTrue(none.err().startsWith("Usage: vcpu-emu [-hV] [COMMAND]"), "no arguments: the usage; " + none.err());
    }

    @Test
    void aBadDurationNamesTheOptionAsTyped() {
        for (String command : List.of("run", "soak")) {
            InProcess.Outcome o = command.equals("run") ? execute("run", "--duration", "abc")
                    : execute("soak", "--duration", "abc", "--out", tmp.resolve("soak").toString());
            assertEquals(Main.BAD_INPUT, o.exit(), command);
            assertTrue(o.err().startsWith("--duration abc: vcpu-emu.run.duration: expected a duration"), command + ": " + o.err());
            assertEquals(1, o.err().lines().count(), o.err());
        }
        InProcess.Outcome interval = execute("soak", "--duration", "1s", "--interval", "-5s", "--out", tmp.resolve("soak").toString());
        assertTrue(interval.err().startsWith("--interval -5s: vcpu-emu.run.progress-interval: "), interval.err());
    }

    @Test
    void aReportIntoAMissingDirectoryNamesReportAndThePath() {
        Path missing = tmp.resolve("no/such/dir/x.json");
        InProcess.Outcome o = execute("run", "--report", missing.toString(), "--duration", "1s");
        assertEquals(Main.BAD_INPUT, o.exit());
        assertEquals("--report: cannot write x.json into " + missing.getParent(), o.err().strip());
    }

    @Test
    void findTakesAFindingKindInAnyCaseWithDashesOrUnderscores() {
        for (String spelling : List.of("lost_wakeup", "LOST_WAKEUP", "lost-wakeup", "Lost-Wakeup")) {
            for (Class<?> command : List.of(ReplayCommand.class, ExploreCommand.class)) {
                CommandLine cli = new CommandLine(command);
                cli.parseArgs("t.conf", command == ReplayCommand.class ? "--seed" : "--runs", "1", "--find", spelling);
                Object find = cli.getCommandSpec().findOption("--find").getValue();
                assertEquals(FindingKind.LOST_WAKEUP, find, command.getSimpleName() + " " + spelling);
            }
        }
        InProcess.Outcome o = execute("replay", "t.conf", "--seed", "1", "--find", "lost-wakeups");
        assertEquals(Main.BAD_INPUT, o.exit());
        assertTrue(o.err().startsWith("vcpu-emu replay: Invalid value for option '--find': unknown finding kind "
                + "'lost-wakeups' (did you mean LOST_WAKEUP?)"), o.err());
    }

    @Test
    void validateListsEveryProblemUpToItsBound() throws Exception {
        Path few = tmp.resolve("few.conf");
        Files.writeString(few, String.join("\n", "vcpu-emu {", "  topology.vcpu = 3", "  topology.vcpus = 0",
                "  host.era = modern", "  workload.hot-probability = 1.5", "}", ""));
        InProcess.Outcome o = execute("validate", few.toString());
        assertEquals(Main.BAD_INPUT, o.exit());
        assertEquals(List.of(few + ":2: vcpu-emu.topology.vcpu: unknown key (did you mean vcpu-emu.topology.vcpus?)",
                few + ":3: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 0",
                few + ":4: vcpu-emu.host.era: must be legacy-early, legacy-df-guard, legacy, legacy-fixed, interrupt, "
                        + "error-code or ve, got modern",
                few + ":5: vcpu-emu.workload.hot-probability: must be between 0 and 1, got 1.5"), o.err().lines().toList());

        Path many = tmp.resolve("many.conf");
        Files.writeString(many, "vcpu-emu {\n" + IntStream.range(0, ValidateCommand.SHOWN + 5)
                .mapToObj(i -> "  unknown" + i + " = 1").collect(Collectors.joining("\n")) + "\n}\n");
        InProcess.Outcome m = execute("validate", many.toString());
        List<String> lines = m.err().lines().toList();
        assertEquals(ValidateCommand.SHOWN + 1, lines.size(), m.err());
        assertTrue(lines.get(0).startsWith(many + ":2: vcpu-emu.unknown0: unknown key"), lines.get(0));
        assertEquals("... and 5 more", lines.get(ValidateCommand.SHOWN));
    }

    @Test
    void anEmptyTopologyFileIsBadInputAndNoReportIsWritten() throws Exception {
        Path empty = tmp.resolve("empty.conf");
        Files.writeString(empty, "# nothing but a comment\n");
        Path report = tmp.resolve("report.json");
        Files.writeString(report, "{\"earlier\": true}");
        InProcess.Outcome o = execute("run", empty.toString(), "--report", report.toString(), "--duration", "1s");
        assertEquals(Main.BAD_INPUT, o.exit());
        assertEquals(empty + ": empty topology file: expected a vcpu-emu { } block", o.err().strip());
        assertEquals("{\"earlier\": true}", Files.readString(report));
    }

    @Test
    void replaySaysInOneLineWhyItExitsOneOrZero() {
        String stopped = "finding: LOST_WAKEUP";
        String found = ReplayCommand.verdict(FindingKind.LOST_WAKEUP, true, true, true, stopped);
        assertTrue(found.startsWith("Exit 1: the failure is reproduced: the run found LOST_WAKEUP, which --find "
                + "LOST_WAKEUP looks for, whatever the expectations say"), found);
        assertTrue(ReplayCommand.verdict(FindingKind.LOST_WAKEUP, true, true, false, stopped)
                .startsWith("Exit 0: not reproduced: no LOST_WAKEUP in this run"));
        assertTrue(ReplayCommand.verdict(null, false, false, true, stopped)
                .startsWith("Exit 1: the failure is reproduced: the topology's expectations are not met"));
        assertTrue(ReplayCommand.verdict(null, true, true, true, stopped)
                .startsWith("Exit 1: the failure is reproduced: a finding appeared, and without an expect block"));
        assertTrue(found.endsWith("(the run ended: finding: LOST_WAKEUP)"), found);
    }

    @Test
    void exploreEstimatesAKindsRateOverWholeRuns() throws Exception {
        // issue 18 item 7: every seed runs to its end (no finding stops it), and the rate comes with its interval.
        Path topology = Path.of(System.getProperty("vcpuemu.conf", "../../conf"), "scenarios", "hazard-i-nmi-window.conf");
        Path out = tmp.resolve("out");
        InProcess.Outcome o = execute("explore", topology.toString(), "--estimate", "apf_word_stolen", "--runs", "6", "--duration",
                "5ms", "--parallelism", "1", "--out", out.toString());
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("estimate APF_WORD_STOLEN: 6 runs of 5ms"), o.out());
        JsonNode e = new ObjectMapper().readTree(out.resolve("estimate.json").toFile());
        assertEquals(6, e.get("runs").asLong());
        long with = e.get("runsWith").asLong();
        assertTrue(with > 0, "the scenario's storm steals the word within 5 ms in some runs: " + o.out());
        assertEquals(with / 6.0, e.get("perRun").get("value").asDouble(), 1e-12);
        assertTrue(e.get("perRun").get("low95").asDouble() <= with / 6.0 && with / 6.0 <= e.get("perRun").get("high95").asDouble());
        assertTrue(e.get("notPresents").asLong() > 0 && e.get("simulatedNanos").asLong() <= 30_000_000L, e.toString());

        // One row per era pair: hazard (i) cannot happen on the #VE design, whose page-ready is no #PF.
        Path eras = tmp.resolve("eras");
        InProcess.Outcome table = execute("explore", topology.toString(), "--estimate", "APF_WORD_STOLEN", "--runs", "3", "--duration",
                "5ms", "--parallelism", "1", "--eras", "legacy/legacy,ve/ve", "--out", eras.toString());
        assertEquals(0, table.exit(), table.err());
        JsonNode rows = new ObjectMapper().readTree(eras.resolve("estimate.json").toFile()).get("eras");
        assertEquals(2, rows.size());
        assertEquals("ve/ve", rows.get(1).get("eras").asText());
        assertEquals(0, rows.get(1).get("findings").asLong());
        assertEquals(0.0, rows.get(1).get("perRun").get("low95").asDouble());
        assertEquals(2, execute("explore", topology.toString(), "--estimate", "APF_WORD_STOLEN", "--runs", "1", "--eras",
                "legacy").exit());

        InProcess.Outcome both = execute("explore", topology.toString(), "--estimate", "NESTED_NMI", "--find", "NESTED_NMI", "--runs",
                "1");
        assertEquals(2, both.exit());
        assertTrue(both.err().startsWith("--estimate: "), both.err());

        InProcess.Outcome aimed = execute("explore", topology.toString(), "--estimate", "NESTED_NMI", "--strategy",
                "windows", "--runs", "1");
        assertEquals(2, aimed.exit());
        assertEquals("--estimate: rates hold for runs timed at random; --strategy windows aims its runs at the windows",
                aimed.err().strip());
        InProcess.Outcome negative = execute("explore", topology.toString(), "--strategy", "windows", "--window-runs",
                "-1", "--runs", "1");
        assertEquals(2, negative.exit());
        assertEquals("--window-runs: must be at least 0, got -1", negative.err().strip());
    }
}
