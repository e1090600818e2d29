package dev.vcpuemu.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The CPU time of this JVM's garbage-collector threads, by kind, from Linux's per-thread
 * accounting ({@code /proc/self/task/<tid>/stat}): Java 17's beans give the collector's pauses,
 * not what its concurrent threads take beside the application. The collector's threads live as
 * long as the JVM (one started during a phase counts from zero), so two readings bracket a
 * phase. At 100,000 vCPUs on Java 17's G1 the concurrent refinement threads alone took almost
 * half a core of two (see the performance page): that is what {@code bench} shows beside each
 * phase, so that a slow large run says why.
 *
 * <p>Kinds are the thread names with their number dropped: {@code G1 Refine} (concurrent
 * refinement of dirty cards), {@code G1 Conc} (concurrent marking), {@code GC Thread} (the
 * parallel workers of the pauses, G1's and Parallel's), and the like of other collectors.
 */
final class CollectorThreads {
    /** Clock ticks per second of {@code /proc}'s times (Linux's USER_HZ). */
    private static final double TICKS_PER_SECOND = 100;
    private static final List<String> PREFIXES = List.of("GC Thread", "G1 ", "ZWorker", "ZDriver", "ZDirector",
            "Shenandoah");
    private static final Path TASKS = Path.of("/proc/self/task");

    private CollectorThreads() {
    }

    /** CPU seconds used so far by each kind of collector thread; empty where {@code /proc} is not there. */
    static Map<String, Double> cpuSeconds() {
        Map<String, Double> byKind = new TreeMap<>();
        if (!Files.isDirectory(TASKS)) {
            return byKind;
        }
        try (Stream<Path> tasks = Files.list(TASKS)) {
            tasks.forEach(t -> {
                try {
                    add(byKind, Files.readString(t.resolve("stat")));
                } catch (IOException | RuntimeException e) {
                    // The thread ended between the listing and the read: it was not a collector's.
                }
            });
        } catch (IOException e) {
            return Map.of();
        }
        return byKind;
    }

    /** Adds one thread's {@code stat} line to {@code byKind} if it is a collector thread's. */
    static void add(Map<String, Double> byKind, String stat) {
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (PREFIXES.stream().noneMatch(name::startsWith)) {
            return;
        }
        // After the name: state is field 3 of stat(5), utime and stime fields 14 and 15.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        double seconds = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
        byKind.merge(name.replaceAll("#?\\d+$", ""), seconds, Double::sum);
    }

    /** Cores each kind used between two readings {@code wallSeconds} apart. */
    static Map<String, Double> cores(Map<String, Double> before, Map<String, Double> after, double wallSeconds) {
        Map<String, Double> cores = new TreeMap<>();
        after.forEach((kind, s) -> cores.put(kind, (s - before.getOrDefault(kind, 0.0)) / wallSeconds));
        return cores;
    }
}
