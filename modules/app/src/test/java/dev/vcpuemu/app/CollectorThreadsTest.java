package dev.vcpuemu.app;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The collector's threads are told from the rest by name, and their CPU read from Linux's per-thread times. */
class CollectorThreadsTest {

    /** A stat(5) line: pid, (name), state, then fields 4..13, utime and stime in ticks, the rest. */
    private static String stat(String name, long utime, long stime) {
        return "4242 (" + name + ") S 1 4242 1 0 -1 4194368 12 0 0 0 " + utime + " " + stime + " 0 0 20 0 30 0 75 0";
    }

    @Test
    void collectorThreadsAddUpByKindAndOthersAreLeftOut() {
        Map<String, Double> byKind = new TreeMap<>();
        CollectorThreads.add(byKind, stat("G1 Refine#0", 150, 20));
        CollectorThreads.add(byKind, stat("G1 Refine#1", 30, 0));
        CollectorThreads.add(byKind, stat("GC Thread#1", 40, 10));
        CollectorThreads.add(byKind, stat("vcpu-emu-vcpu-e", 9_000, 100));
        CollectorThreads.add(byKind, stat("C2 CompilerThre", 400, 0));
        CollectorThreads.add(byKind, stat("a (b) c", 400, 0)); // a name with brackets: read to its last ')'
        assertEquals(Map.of("G1 Refine", 2.0, "GC Thread", 0.5), byKind);
    }

    @Test
    void coresAreTheGrowthOverTheWallTime() {
        Map<String, Double> cores = CollectorThreads.cores(Map.of("G1 Refine", 10.0, "GC Thread", 4.0),
                Map.of("G1 Refine", 18.0, "GC Thread", 6.0, "G1 Conc", 1.0), 20);
        assertEquals(Map.of("G1 Refine", 0.4, "GC Thread", 0.1, "G1 Conc", 0.05), cores);
    }

    @Test
    void theLineNamesTheBusiestKindFirstAndLeavesIdleOnesOut() {
        var load = new MachineLoad.Load(0.1, 1.9, 2.0, 2, Map.of("G1 Refine", 0.44, "GC Thread", 0.12,
                "G1 Conc", 0.06, "G1 Service", 0.001));
        assertEquals("collector threads 0.62 of 2 cores: G1 Refine 0.44, GC Thread 0.12, G1 Conc 0.06",
                load.collectorLine());
        assertNull(new MachineLoad.Load(0.1, 1.9, 2.0, 2).collectorLine(), "not known: no line");
    }

    @Test
    void thisJvmsPauseWorkersAreFoundAndTheirTimeGrows() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux only");
        String gc = BenchPhases.collector();
        assumeTrue(gc.equals("G1") || gc.equals("Parallel"), "their pauses run on 'GC Thread#n'");
        double before = CollectorThreads.cpuSeconds().getOrDefault("GC Thread", 0.0);
        double after = before;
        // Full collections of a heap with something in it, until the workers' ticks show (10 ms each).
        for (int i = 0; i < 200 && after <= before; i++) {
            byte[][] junk = new byte[2_000][];
            for (int j = 0; j < junk.length; j++) {
                junk[j] = new byte[1_024];
            }
            System.gc();
            after = CollectorThreads.cpuSeconds().getOrDefault("GC Thread", 0.0);
        }
        assertTrue(after > before, "GC Thread CPU " + before + " s -> " + after + " s after full collections");
    }
}
