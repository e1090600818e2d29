package dev.vcpuemu.app;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How busy the machine was while {@code bench} measured a phase: the CPU the whole machine used
 * and the CPU this JVM used over the phase, from the JDK's operating-system bean (both loads are
 * averages since the previous call, so one call at the start and one at the end bracket the
 * phase), and the load average at the end. What the machine used beyond this JVM was taken by
 * other processes: cores the phase could not have.
 */
final class MachineLoad {
    /** Other processes' cores, on average over a phase, from which its figures are suspect. */
    static final double BUSY_CORES = 0.5;

    private static final com.sun.management.OperatingSystemMXBean OS = bean();

    private final long startNanos = System.nanoTime();
    private final long startCpuNanos;
    private final Map<String, Double> startCollector = CollectorThreads.cpuSeconds();

    /**
     * What was measured over one phase: cores used by other processes and by this JVM, the 1-minute
     * load average, and the cores this JVM's collector threads used, by kind (empty when unknown).
     */
    record Load(double otherCores, double ownCores, double loadAverage, int cores, Map<String, Double> collectorCores) {
        Load(double otherCores, double ownCores, double loadAverage, int cores) {
            this(otherCores, ownCores, loadAverage, cores, Map.of());
        }

        /** Cores all collector threads used together. */
        double collectorTotal() {
            return collectorCores.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        /** "collector threads 0.62 of 2 cores: G1 Refine 0.44, …", busiest first; null when unknown. */
        String collectorLine() {
            if (collectorCores.isEmpty()) {
                return null;
            }
            String kinds = collectorCores.entrySet().stream()
                    .filter(e -> e.getValue() >= 0.005)
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .map(e -> String.format("%s %.2f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", "));
            return String.format("collector threads %.2f of %d cores%s", collectorTotal(), cores,
                    kinds.isEmpty() ? "" : ": " + kinds);
        }

        /** The warning for the phase, or null when the machine was not noticeably busy. */
        String warning() {
            if (otherCores < BUSY_CORES) {
                return null;
            }
            return String.format("busy machine: other processes took %.1f of %d cores meanwhile (load average %.1f)",
                    otherCores, cores, loadAverage);
        }
    }

    private MachineLoad() {
        if (OS != null) {
            // Both loads are deltas since the previous call: this one starts the phase's window.
            OS.getCpuLoad();
            OS.getProcessCpuLoad();
        }
        startCpuNanos = OS == null ? -1 : OS.getProcessCpuTime();
    }

    static MachineLoad start() {
        return new MachineLoad();
    }

    /** The phase is over: what the machine and this JVM used since {@link #start}. */
    Load stop() {
        int cores = Runtime.getRuntime().availableProcessors();
        double loadAverage = loadAverage();
        if (OS == null) {
            return new Load(0, 0, loadAverage, cores);
        }
        double machine = OS.getCpuLoad();
        double wall = Math.max(1, System.nanoTime() - startNanos);
        double own = startCpuNanos < 0 ? 0 : (OS.getProcessCpuTime() - startCpuNanos) / wall;
        Map<String, Double> collector = CollectorThreads.cores(startCollector, CollectorThreads.cpuSeconds(), wall / 1e9);
        return new Load(other(machine, own, cores), own, loadAverage, cores, collector);
    }

    /** Cores used by others: the machine's share of all cores, less what this process used; 0 when unknown. */
    static double other(double machineLoad, double ownCores, int cores) {
        if (machineLoad < 0 || Double.isNaN(machineLoad)) {
            return 0;
        }
        return Math.max(0, machineLoad * cores - ownCores);
    }

    /** The 1-minute load average: /proc/loadavg where there is one, else the JDK's; -1 when unknown. */
    private static double loadAverage() {
        try {
            Path proc = Path.of("/proc/loadavg");
            if (Files.isReadable(proc)) {
                return Double.parseDouble(Files.readString(proc).split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            // Fall back to the bean.
        }
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static com.sun.management.OperatingSystemMXBean bean() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os : null;
    }
}
