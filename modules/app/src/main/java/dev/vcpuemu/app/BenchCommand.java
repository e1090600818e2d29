package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.Baseline;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * {@code bench}: how fast the emulator runs against what raw Pekko can do on the same machine,
 * measured in one JVM, one phase after the other, each after a warm-up of its own:
 * <ol>
 *   <li>raw Pekko ping-pong pairs with as many actors as the simulation and its dispatcher
 *       settings ({@link Baseline});</li>
 *   <li>the emulator, concurrent engine, on the stress topology;</li>
 *   <li>raw Pekko on one thread, and on the deterministic engine's seeded executor;</li>
 *   <li>the emulator, deterministic engine, on the same topology (bounded by the wall clock
 *       here: throughput, not reproducibility, is measured).</li>
 * </ol>
 * It prints messages/s and micro-ops/s of each, the ratios, and for the emulator the start-up
 * time and the live heap (after a full GC in the middle of the warm-up run, so the measured run
 * is not disturbed), and writes the same as JSON. With several sizes ({@code --vcpus
 * 16,256,4096}) it ends with the growth table. More vCPUs than one guest may have are spread
 * over equal guests ({@code topology.guests}).
 */
@Command(name = "bench", description = "Measure the emulator's messages/s and micro-ops/s against a raw Pekko "
        + "baseline measured in the same JVM.")
final class BenchCommand implements java.util.concurrent.Callable<Integer> {
    /**
     * The stress topology, over the embedded default, when no file is given: one micro-op per
     * step message (every micro-op boundary is a mailbox boundary), four tasks per vCPU.
     */
    static final List<String> STRESS = List.of("engine.micro-ops-per-step=1", "guest.tasks-per-vcpu=4");

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TOPOLOGY",
            description = "HOCON topology file (default: the embedded default with " + "engine.micro-ops-per-step=1, "
                    + "guest.tasks-per-vcpu=4).")
    Path topology;

    @Option(names = "--vcpus", paramLabel = "N[,N...]", split = ",", defaultValue = "64",
            description = "vCPUs in all; several sizes give a growth table. Default: ${DEFAULT-VALUE}.")
    List<Integer> vcpus;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "10s",
            description = "Wall-clock time measured in each phase. Default: ${DEFAULT-VALUE}.")
    String duration;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "3s",
            description = "Wall-clock warm-up before each phase. Default: ${DEFAULT-VALUE}.")
    String warmup;

    @Option(names = "--engines", paramLabel = "E[,E...]", split = ",", defaultValue = "concurrent,deterministic",
            description = "Which engines to measure (each with its baselines). Default: ${DEFAULT-VALUE}.")
    Set<RunCommand.Engine> engines;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "vcpu-emu-bench.json",
            description = "JSON results (empty: none). Default: ${DEFAULT-VALUE}.")
    String out;

    @Mixin
    SetOptions setOptions;

    /** One measured phase: what ran, how many messages and micro-ops in how much wall time. */
    record Phase(String name, long messages, long microOps, double wallSeconds) {
        double messagesPerSecond() {
            return wallSeconds > 0 ? messages / wallSeconds : 0;
        }

        double microOpsPerSecond() {
            return wallSeconds > 0 ? microOps / wallSeconds : 0;
        }

        static Phase of(String name, Baseline.Result r) {
            return new Phase(name, r.messages(), 0, r.wallSeconds());
        }

        static Phase of(String name, RunResult r) {
            return new Phase(name, r.counters().getOrDefault("messages", 0L), r.counters().getOrDefault("microOps", 0L),
                    r.wallSeconds());
        }
    }

    /** Start-up and memory of the emulator at one size. */
    record Footprint(double startupSeconds, long heapBeforeBytes, long heapLiveBytes, long totalVcpus) {
        long bytesPerVcpu() {
            return Math.max(0, heapLiveBytes - heapBeforeBytes) / Math.max(1, totalVcpus);
        }
    }

    /** What one size of the topology gave: its JSON, its row of the growth table (concurrent engine), conservation. */
    private record SizeResult(String growthRow, boolean conserved) {}

    /** The emulator's measured run, and its start-up and memory when they were taken. */
    private record Measured(RunResult result, Footprint footprint) {}

    @Override
    public Integer call() throws InterruptedException, IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration measure;
        Duration warm;
        List<LoadedSettings> sizes;
        Path outPath;
        try {
            measure = ExploreCommand.parseDuration("--duration", duration);
            warm = ExploreCommand.parseDuration("--warmup", warmup);
            checkOptions(measure, warm);
            sizes = loadSizes();
            outPath = outPath();
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }

        Runtime rt = Runtime.getRuntime();
        o.printf("vcpu-emu %s bench: %s, %d cores, max heap %d MiB, Java %s; %s measured after %s warm-up per phase%n",
                Main.version(), sizes.get(0).source(), rt.availableProcessors(), rt.maxMemory() >> 20,
                System.getProperty("java.version"), ValidateCommand.human(measure), ValidateCommand.human(warm));
        o.flush();

        ObjectNode root = header(sizes.get(0), measure, warm);
        ArrayNode results = root.putArray("sizes");
        boolean conserved = true;
        List<String> growth = new ArrayList<>();
        for (LoadedSettings loaded : sizes) {
            SizeResult r = measureSize(loaded, results.addObject(), warm, measure, o, err);
            conserved &= r.conserved();
            if (r.growthRow() != null) {
                growth.add(r.growthRow());
            }
        }
        if (growth.size() > 1) {
            o.printf("%nGrowth (concurrent engine)%n");
            o.println("| vCPUs | actors | start-up s | live heap MiB | bytes/vCPU | M micro-ops/s | M msg/s | raw M msg/s | ratio |");
            o.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            growth.forEach(o::println);
        }
        if (outPath != null) {
            Report.write(outPath, root);
            o.println("Results: " + outPath);
        }
        o.flush();
        return conserved ? Main.OK : Main.EMULATOR_FAILURE;
    }

    private void checkOptions(Duration measure, Duration warm) throws ConfigProblem {
        if (measure.isZero() || measure.isNegative()) {
            throw new ConfigProblem("--duration", null, "must be positive, got " + duration);
        }
        if (warm.isNegative()) {
            throw new ConfigProblem("--warmup", null, "must not be negative, got " + warmup);
        }
        if (vcpus.stream().anyMatch(n -> n < 1)) {
            throw new ConfigProblem("--vcpus", null, "every size must be at least 1, got " + vcpus);
        }
        if (engines.isEmpty()) {
            throw new ConfigProblem("--engines", null, "name at least one engine");
        }
    }

    /** The topology at each size of {@code --vcpus}, spread over equal guests where one guest cannot hold it. */
    private List<LoadedSettings> loadSizes() throws ConfigProblem {
        List<LoadedSettings> sizes = new ArrayList<>();
        for (int n : vcpus) {
            int guests = guestsFor(n);
            List<String> sets = new ArrayList<>(topology == null ? STRESS : List.of());
            sets.addAll(setOptions.sets);
            sets.addAll(List.of("topology.guests=" + guests, "topology.vcpus=" + n / guests, "run.report=\"\""));
            sizes.add(new SettingsLoader().load(Optional.ofNullable(topology), sets));
        }
        return sizes;
    }

    private Path outPath() throws ConfigProblem {
        if (out.isEmpty()) {
            return null;
        }
        Path p = Path.of(out);
        Path dir = p.toAbsolutePath().getParent();
        if (dir == null || !dir.toFile().isDirectory()) {
            throw new ConfigProblem("--out", null, "no such directory: " + dir);
        }
        return p;
    }

    /** The JSON results' header: the machine, the topology and the phase lengths. */
    private ObjectNode header(LoadedSettings first, Duration measure, Duration warm) {
        Runtime rt = Runtime.getRuntime();
        ObjectNode root = JSON.createObjectNode();
        root.put("schema", 1);
        root.put("command", "bench");
        root.put("version", Main.version());
        root.put("date", LocalDate.now().toString());
        ObjectNode machine = root.putObject("machine");
        machine.put("cores", rt.availableProcessors());
        machine.put("maxHeapBytes", rt.maxMemory());
        machine.put("java", System.getProperty("java.version"));
        machine.put("vm", System.getProperty("java.vm.name"));
        root.put("topology", first.source());
        ArrayNode stress = root.putArray("sets");
        (topology == null ? STRESS : List.<String>of()).forEach(stress::add);
        setOptions.sets.forEach(stress::add);
        root.put("measureSeconds", measure.toNanos() / 1e9);
        root.put("warmupSeconds", warm.toNanos() / 1e9);
        return root;
    }

    /** Every engine asked for, each against its raw Pekko baselines, at one size. */
    private SizeResult measureSize(LoadedSettings loaded, ObjectNode size, Duration warm, Duration measure,
                                   PrintWriter o, PrintWriter err) throws InterruptedException {
        Settings s = loaded.settings();
        int actors = actors(s);
        o.printf("%n%,d vCPUs (%d guest(s) x %,d), %,d actors, micro-ops per step %d, mailbox throughput %d%n",
                s.topology().totalVcpus(), s.topology().guests(), s.topology().vcpus(), actors,
                s.engine().microOpsPerStep(), s.engine().mailboxThroughput());
        o.flush();
        size.put("vcpus", s.topology().totalVcpus());
        size.put("guests", s.topology().guests());
        size.put("actors", actors);
        size.put("microOpsPerStep", s.engine().microOpsPerStep());
        size.put("mailboxThroughput", s.engine().mailboxThroughput());
        ObjectNode phases = size.putObject("phases");
        ObjectNode ratios = size.putObject("ratios");
        boolean conserved = true;
        String growthRow = null;
        if (engines.contains(RunCommand.Engine.concurrent)) {
            Phase raw = baseline("raw Pekko, simulation dispatcher", Baseline.Dispatcher.CONCURRENT, loaded,
                    actors, warm, measure, o);
            Measured m = emulator(loaded, false, warm, measure, true);
            Phase emu = Phase.of("emulator, concurrent engine", m.result());
            conserved &= conservation(m.result(), err);
            print(o, emu);
            put(phases, "rawConcurrent", raw);
            put(phases, "emulatorConcurrent", emu);
            Footprint f = m.footprint();
            putFootprint(phases.with("emulatorConcurrent"), f);
            double ratio = emu.messagesPerSecond() / raw.messagesPerSecond();
            ratios.put("concurrent", ratio);
            o.printf("  ratio: emulator / raw = %.1f%% of raw messages/s; start-up %.2f s, live heap %,d MiB, "
                    + "%,d bytes per vCPU%n", 100 * ratio, f.startupSeconds(), f.heapLiveBytes() >> 20, f.bytesPerVcpu());
            growthRow = String.format("| %,d | %,d | %.2f | %,d | %,d | %.2f | %.2f | %.2f | %.0f%% |",
                    s.topology().totalVcpus(), actors, f.startupSeconds(), f.heapLiveBytes() >> 20, f.bytesPerVcpu(),
                    emu.microOpsPerSecond() / 1e6, emu.messagesPerSecond() / 1e6, raw.messagesPerSecond() / 1e6,
                    100 * ratio);
        }
        if (engines.contains(RunCommand.Engine.deterministic)) {
            Phase single = baseline("raw Pekko, one thread", Baseline.Dispatcher.SINGLE_THREAD, loaded, actors,
                    warm, measure, o);
            Phase seeded = baseline("raw Pekko, seeded executor", Baseline.Dispatcher.SEEDED, loaded, actors,
                    warm, measure, o);
            RunResult r = emulator(loaded, true, warm, measure, false).result();
            Phase det = Phase.of("emulator, deterministic engine", r);
            conserved &= conservation(r, err);
            print(o, det);
            put(phases, "rawSingleThread", single);
            put(phases, "rawSeededExecutor", seeded);
            put(phases, "emulatorDeterministic", det);
            ratios.put("deterministic", det.messagesPerSecond() / single.messagesPerSecond());
            ratios.put("deterministicVsSeededExecutor", det.messagesPerSecond() / seeded.messagesPerSecond());
            ratios.put("seededExecutorVsSingleThread", seeded.messagesPerSecond() / single.messagesPerSecond());
            o.printf("  ratio: deterministic / one thread = %.1f%%; / seeded executor = %.1f%%; "
                            + "seeded executor / one thread = %.1f%%%n",
                    100 * ratios.get("deterministic").asDouble(),
                    100 * ratios.get("deterministicVsSeededExecutor").asDouble(),
                    100 * ratios.get("seededExecutorVsSingleThread").asDouble());
        }
        o.flush();
        return new SizeResult(growthRow, conserved);
    }

    /** Guests for {@code n} vCPUs in all: the fewest equal guests within KVM's vCPU limit. */
    static int guestsFor(int n) {
        int max = Settings.Topology.MAX_VCPUS;
        int g = (n + max - 1) / max;
        while (n % g != 0) {
            g++;
        }
        return g;
    }

    /** The simulation's actors: per guest its vCPUs, workers, reclaimer and NMI sources; the time-keeper, the collector. */
    static int actors(Settings s) {
        long perGuest = s.topology().vcpus() + s.host().pagingWorkers() + 1 + s.nmi().sources().size();
        return Math.toIntExact(s.topology().guests() * perGuest + 2);
    }

    private static Phase baseline(String name, Baseline.Dispatcher d, LoadedSettings loaded, int actors, Duration warm,
                                  Duration measure, PrintWriter o) throws InterruptedException {
        if (!warm.isZero()) {
            Baseline.run(d, loaded.settings(), loaded.config(), actors, warm);
        }
        Phase p = Phase.of(name, Baseline.run(d, loaded.settings(), loaded.config(), actors, measure));
        print(o, p);
        return p;
    }

    /**
     * A warm-up run, then the measured run. With {@code footprint}, the warm-up run (or, without
     * one, the measured run) also takes the live heap: a full GC half way through it, from a
     * thread of its own (a quantum of a big topology can outlast the whole bound, so the
     * simulation's own progress samples may never come), against the heap before it started.
     */
    private static Measured emulator(LoadedSettings loaded, boolean deterministic, Duration warm, Duration measure,
                                     boolean footprint) throws InterruptedException {
        Settings s = loaded.settings();
        long heapBefore = footprint ? liveHeap() : 0;
        HeapSampler sampler = null;
        if (!warm.isZero()) {
            sampler = footprint ? HeapSampler.after(warm.dividedBy(2)) : null;
            simulate(loaded, deterministic, RunControl.wallClock(warm, s.run().progressInterval()));
        } else if (footprint) {
            sampler = HeapSampler.after(measure.dividedBy(2));
        }
        RunControl control = RunControl.wallClock(measure, s.run().progressInterval());
        long t0 = System.nanoTime();
        RunResult r = simulate(loaded, deterministic, control);
        Footprint f = !footprint ? null : new Footprint((control.startedAtNanos() - t0) / 1e9, heapBefore,
                sampler.live(), s.topology().totalVcpus());
        return new Measured(r, f);
    }

    /** Takes the live heap once, {@code delay} from now, on its own thread. */
    private static final class HeapSampler {
        private final Thread thread;
        private volatile long live;

        private HeapSampler(Duration delay) {
            thread = new Thread(() -> {
                try {
                    Thread.sleep(delay.toMillis());
                    live = liveHeap();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "vcpu-emu-bench-heap");
            thread.setDaemon(true);
        }

        static HeapSampler after(Duration delay) {
            HeapSampler s = new HeapSampler(delay);
            s.thread.start();
            return s;
        }

        long live() throws InterruptedException {
            thread.join();
            return live;
        }
    }

    private static RunResult simulate(LoadedSettings loaded, boolean deterministic, RunControl control)
            throws InterruptedException {
        Settings s = loaded.settings();
        if (deterministic) {
            return Simulation.runDeterministic(s, loaded.config(), control, p -> { }, Strategy.uniform(s.run().seed()),
                    null, null);
        }
        try {
            return Simulation.run(s, loaded.config(), control, p -> { });
        } catch (TimeoutException e) {
            throw new IllegalStateException("the run did not end within its duration + " + Simulation.GRACE, e);
        }
    }

    /** Heap in use right after a full collection: what is reachable. */
    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static boolean conservation(RunResult r, PrintWriter err) {
        if (!r.conservation().held()) {
            err.println("vcpu-emu: emulator failure: conservation broken: " + r.conservation().detail());
        }
        return r.conservation().held();
    }

    private static void print(PrintWriter o, Phase p) {
        o.printf("  %-34s %8.2f M msg/s%s   (%,d messages in %.2f s)%n", p.name(), p.messagesPerSecond() / 1e6,
                p.microOps() > 0 ? String.format("  %8.2f M micro-ops/s", p.microOpsPerSecond() / 1e6) : "",
                p.messages(), p.wallSeconds());
        o.flush();
    }

    private static void put(ObjectNode phases, String key, Phase p) {
        ObjectNode x = phases.putObject(key);
        x.put("name", p.name());
        x.put("messages", p.messages());
        x.put("wallSeconds", p.wallSeconds());
        x.put("messagesPerSecond", p.messagesPerSecond());
        if (p.microOps() > 0) {
            x.put("microOps", p.microOps());
            x.put("microOpsPerSecond", p.microOpsPerSecond());
        }
    }

    private static void putFootprint(ObjectNode x, Footprint f) {
        x.put("startupSeconds", f.startupSeconds());
        x.put("heapBeforeBytes", f.heapBeforeBytes());
        x.put("heapLiveBytes", f.heapLiveBytes());
        x.put("bytesPerVcpu", f.bytesPerVcpu());
    }
}
