package dev.vcpuemu.app;

import dev.vcpuemu.app.config.SettingsLoader;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.HotSpotDiagnosticMXBean;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@code bench} sizes a topology (vCPUs over guests, the actors the baseline must match),
 * what {@code --engines} selects, and how repeated phases are summed up.
 */
class BenchCommandTest {
    @Test
    void moreVcpusThanOneGuestMayHaveAreSpreadOverTheFewestEqualGuests() {
        assertEquals(1, BenchCommand.guestsFor(1));
        assertEquals(1, BenchCommand.guestsFor(4095));
        assertEquals(2, BenchCommand.guestsFor(4096));
        assertEquals(4, BenchCommand.guestsFor(10_000), "3 guests cannot split 10,000 evenly");
        assertEquals(3, BenchCommand.guestsFor(12_285));
        assertEquals(8_191, BenchCommand.guestsFor(8_191), "a prime: one vCPU per guest is all that divides it");
    }

    @Test
    void theBaselineHasAsManyActorsAsTheSimulation() throws Exception {
        var s = new SettingsLoader().load(Optional.empty(), List.of("topology.guests=3", "topology.vcpus=16",
                "host.paging-workers=3", "nmi.sources=[]")).settings();
        // Per guest 16 vCPUs + 3 workers + the reclaimer + no NMI source; the time-keeper and the collector.
        assertEquals(3 * (16 + 3 + 1) + 2, BenchCommand.actors(s));
    }

    @Test
    void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(3.0, BenchCommand.median(5, 1, 3));
        assertEquals(2.5, BenchCommand.median(4, 1, 3, 2));
        assertEquals(7.0, BenchCommand.median(7));
    }

    @Test
    void repeatedRunsOfAPhaseGiveTheirMedianRangeAndEachRun() {
        MachineLoad.Load calm = new MachineLoad.Load(0.1, 2.0, 1.5, 2);
        MachineLoad.Load busy = new MachineLoad.Load(1.2, 0.8, 4.0, 2);
        List<BenchCommand.Sample> runs = List.of(
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 3_000, 6_000, 1.0, null), null, calm, true),
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 1_000, 2_000, 1.0, null), null, busy, true),
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 4_000, 8_000, 2.0, null), null, calm, true));
        ObjectNode x = BenchCommand.put(new ObjectMapper().createObjectNode(), "emulatorConcurrent", "emu", runs);
        assertEquals(2_000.0, x.get("messagesPerSecond").asDouble(), "median of 3,000, 1,000 and 2,000 per second");
        assertEquals(1_000.0, x.get("messagesPerSecondMin").asDouble());
        assertEquals(3_000.0, x.get("messagesPerSecondMax").asDouble());
        assertEquals(4_000.0, x.get("microOpsPerSecond").asDouble());
        assertEquals(8_000, x.get("messages").asLong(), "messages and wall time add up over the runs");
        assertEquals(4.0, x.get("wallSeconds").asDouble());
        assertEquals(3, x.get("runs").size());
        assertEquals(1.2, x.get("runs").get(1).get("otherProcessesCores").asDouble());
    }

    @Test
    void anEmulatorPhaseGivesItsUserLevelFiguresAndItsBarrier() {
        MachineLoad.Load calm = new MachineLoad.Load(0.1, 2.0, 1.5, 2);
        RunControl.Barrier b = new RunControl.Barrier(2, 1_000, 2_000_000_000L, 500_000_000L, 10, 100_000_000L);
        EngineFigures f = new EngineFigures(5.0, 0.5, 20_000, b, null);
        assertEquals(0.1, f.simulatedSecondsPerSecond(), 1e-12);
        assertEquals(4_000, f.roundTripsPerSecond(), 1e-9);
        assertEquals(0.1, f.barrierShare(), 1e-12, "0.5 s waited in 5 s of wall time");
        assertEquals(0.02, f.primingShare(), 1e-12);
        assertEquals(2_000, f.microsPerQuantum(), 1e-9, "2 s over 1,000 quanta");
        List<BenchCommand.Sample> runs = List.of(
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 1_000, 2_000, 5.0, null), null, calm, true, f),
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 1_000, 2_000, 5.0, null), null, calm, true,
                        new EngineFigures(5.0, 1.5, 0, null, null)));
        ObjectNode x = BenchCommand.put(new ObjectMapper().createObjectNode(), "emulatorConcurrent", "emu", runs);
        assertEquals(0.2, x.get("simulatedSecondsPerSecond").asDouble(), 1e-12, "median of 0.1 and 0.3");
        assertNull(x.get("barrierShare"), "a barrier is reported only when every run measured it");
    }

    @Test
    void aSettledRunGivesWhereItsMeasurementBeganInEachRunOfItsJson() {
        MachineLoad.Load calm = new MachineLoad.Load(0.1, 2.0, 1.5, 2);
        EngineFigures settled = new EngineFigures(5.0, 0.5, 0, null, new EngineFigures.Settled(0.000_15, 42.0));
        List<BenchCommand.Sample> runs = List.of(
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 1_000, 2_000, 5.0, null), null, calm, true, settled),
                new BenchCommand.Sample(new BenchCommand.Phase("emu", 1_000, 2_000, 5.0, null), null, calm, true,
                        new EngineFigures(5.0, 1.5, 0, null, null)));
        ObjectNode x = BenchCommand.put(new ObjectMapper().createObjectNode(), "emulatorConcurrent", "emu", runs);
        assertEquals(0.000_15, x.get("runs").get(0).get("settledAtSimulatedSeconds").asDouble(), 1e-12);
        assertEquals(42.0, x.get("runs").get(0).get("settleWallSeconds").asDouble(), 1e-12);
        assertNull(x.get("runs").get(1).get("settledAtSimulatedSeconds"), "measured from its start");
    }

    @Test
    void aRunThatEndsBeforeItsSettlePointIsAnErrorNotAFigure() {
        RunResult unsettled = new RunResult(600, 90_000, Map.of("microOps", 5L), Map.of(), List.of(),
                new RunResult.Conservation(true, ""), RunControl.DURATION, null, null, -1, null, Map.of(), List.of(),
                Map.of());
        BenchPhases.Settle settle = new BenchPhases.Settle(150_000, java.time.Duration.ofSeconds(10),
                RunControl.wallClock(java.time.Duration.ofMinutes(10), java.time.Duration.ofSeconds(1)));
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> settle.measured(unsettled, 100_000));
        assertEquals("bench: 100,000 vCPUs did not reach the settle point of 150us simulated within 10m of wall time "
                + "(the run got to 0.090 ms); ask for less with --settle", e.getMessage());
    }

    @Test
    void aNegativeOrMalformedSettleIsBadInput() {
        InProcess.Outcome negative = InProcess.execute("bench", "--settle", "-1ms", "--out", "");
        assertEquals(Main.BAD_INPUT, negative.exit(), negative.err());
        assertEquals("--settle: must not be negative, got -1ms", negative.err().strip());
        InProcess.Outcome words = InProcess.execute("bench", "--settle", "soon", "--out", "");
        assertEquals(Main.BAD_INPUT, words.exit(), words.err());
        assertEquals("--settle: expected a duration such as 30s or 5m, got \"soon\"", words.err().strip());
    }

    @Test
    void aPhaseIsSuspectWhenOtherProcessesTookHalfACoreOrMore() {
        // The machine used 90 % of 2 cores while this JVM used 1.0: others took 0.8.
        assertEquals(0.8, MachineLoad.other(0.9, 1.0, 2), 1e-9);
        assertEquals(0.0, MachineLoad.other(0.4, 1.0, 2), "never negative (the two loads are sampled apart)");
        assertEquals(0.0, MachineLoad.other(-1, 1.0, 2), "unknown machine load: no claim");
        assertNull(new MachineLoad.Load(0.4, 2.0, 2.1, 2).warning());
        String w = new MachineLoad.Load(0.8, 1.0, 3.5, 2).warning();
        assertTrue(w != null && w.contains("other processes took 0.8 of 2 cores") && w.contains("load average 3.5"), w);
    }

    @Test
    void engineSelectsTheExplorePhaseAloneOrWithTheEnginesAndTheDefaultHasAll() {
        BenchCommand alone = new BenchCommand();
        new CommandLine(alone).parseArgs("--engines", "explore");
        assertEquals(Set.of(BenchCommand.Part.explore), alone.engines);
        BenchCommand both = new BenchCommand();
        new CommandLine(both).parseArgs("--engines", "deterministic,explore");
        assertEquals(Set.of(BenchCommand.Part.deterministic, BenchCommand.Part.explore), both.engines);
        BenchCommand defaults = new BenchCommand();
        new CommandLine(defaults).parseArgs();
        assertEquals(Set.of(BenchCommand.Part.values()), defaults.engines);
    }

    @Test
    void theExplorePhaseRunsAtOneVcpuForOneMillisecondOverTheTopologyAndItsSets() throws Exception {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).parseArgs("--set", "topology.vcpus=8", "--set", "guest.tasks-per-vcpu=2");
        var s = new SettingsLoader().load(Optional.empty(), b.exploreSets()).settings();
        assertEquals(1, s.topology().totalVcpus(), "the phase's own vCPU count wins over --set");
        assertEquals(2, s.guest().tasksPerVcpu(), "other --set values apply");
        assertEquals(1_000_000, s.run().duration().toNanos());
    }

    @Test
    void repeatedExploreSearchesGiveTheMedianRunsPerSecondTheirRangeAndEachSearch() {
        MachineLoad.Load calm = new MachineLoad.Load(0.1, 2.0, 1.5, 2);
        MachineLoad.Load busy = new MachineLoad.Load(0.9, 1.1, 3.0, 2);
        List<BenchExplore.Sample> searches = List.of(
                new BenchExplore.Sample(1_500, 10.0, 1.5, 3_000, calm),
                new BenchExplore.Sample(600, 10.0, 0.6, 1_000, busy),
                new BenchExplore.Sample(2_400, 20.0, 2.4, 8_000, calm));
        ObjectNode root = new ObjectMapper().createObjectNode();
        ObjectNode x = BenchExplore.put(root, searches);
        assertTrue(root.get("explore") == x, "under the key explore at the top");
        assertEquals(BenchExplore.NAME, x.get("name").asText());
        assertEquals(120.0, x.get("runsPerSecond").asDouble(), "median of 150, 60 and 120 runs/s");
        assertEquals(60.0, x.get("runsPerSecondMin").asDouble());
        assertEquals(150.0, x.get("runsPerSecondMax").asDouble());
        assertEquals(0.12, x.get("simulatedSecondsPerSecond").asDouble(), 1e-12, "median of 0.15, 0.06 and 0.12");
        assertEquals(300.0, x.get("apfRoundTripsPerSecond").asDouble(), "median of 300, 100 and 400 round trips/s");
        assertEquals(400.0, x.get("apfRoundTripsPerSecondMax").asDouble());
        assertEquals(1_000, x.get("runs").get(1).get("apfRoundTrips").asLong());
        assertEquals(3, x.get("runCount").asInt());
        assertEquals(4_500, x.get("exploreRuns").asLong(), "runs and wall time add up over the searches");
        assertEquals(40.0, x.get("wallSeconds").asDouble());
        assertEquals(600, x.get("runs").get(1).get("exploreRuns").asLong());
        assertEquals(0.9, x.get("runs").get(1).get("otherProcessesCores").asDouble());
    }

    @Test
    void theCollectorIsNamedAsTheFlagThatChoosesIt() {
        // The VM's own flags, a second source beside the beans' names that collector() reads.
        var vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        String flagged = null;
        for (String gc : List.of("G1", "Parallel", "Serial", "Z", "Shenandoah")) {
            try {
                if (Boolean.parseBoolean(vm.getVMOption("Use" + gc + "GC").getValue())) {
                    flagged = gc;
                }
            } catch (IllegalArgumentException notInThisVm) {
                // Shenandoah is not built into every JDK.
            }
        }
        assertEquals(flagged, BenchPhases.collector());
    }
}
