package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.det.Explorer;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.app.store.RunStore;
import dev.vcpuemu.app.store.StoredRun;
import dev.vcpuemu.engine.Baseline;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

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
 * and once, whatever the sizes, explore's throughput in runs per second: 1 ms runs of the
 * topology at one vCPU, on all cores, as {@code explore} makes them ({@link Explorer}).
 * It prints messages/s and micro-ops/s of each, the ratios, and for the emulator the start-up
 * time and the live heap (after a full GC in the middle of the warm-up run, so the measured run
 * is not disturbed), and writes the same as JSON. With several sizes ({@code --vcpus
 * 16,256,4096}) it ends with the growth table. More vCPUs than one guest may have are spread
 * over equal guests ({@code topology.guests}).
 */
@Command(name = "bench", description = "Measure the emulator's messages/s and micro-ops/s against a raw Pekko "
        + "baseline measured in the same JVM, and explore's runs/s.")
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

    @Option(names = "--settle", paramLabel = "T", defaultValue = "0",
            description = "Simulated time each measured emulator run goes through before its --duration is "
                    + "counted (0: counted from its start). A run's rate changes with where in simulated time it is: "
                    + "ten seconds at 100,000 vCPUs see only their start-up. Default: ${DEFAULT-VALUE}.")
    String settle;

    /** {@code --settle}, parsed. */
    private Duration settleAt = Duration.ZERO;

    @Option(names = "--engines", paramLabel = "E[,E...]", split = ",", defaultValue = "concurrent,deterministic,explore",
            description = "What to measure: concurrent, deterministic (each engine against its raw Pekko baselines, "
                    + "at every size), explore (runs/s of explore's 1 ms runs of the topology at one vCPU, all cores). "
                    + "Default: ${DEFAULT-VALUE}.")
    Set<Part> engines;

    /** What {@code --engines} selects: an engine with its baselines, or explore's runs per second. */
    enum Part { concurrent, deterministic, explore }

    /**
     * The explore phase's runs, over the topology and {@code --set} (not the stress settings: the
     * target is explore as it is used): one vCPU, 1 ms simulated each, no report file.
     */
    static final List<String> EXPLORE = List.of("topology.guests=1", "topology.vcpus=1", "run.duration=1ms",
            "run.report=\"\"");

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
            description = "Run each phase N times, the phases taking turns (A B A B), and report the median and the "
                    + "range. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(names = "--out", paramLabel = "FILE",
            description = "JSON results (empty: none). Default: report.json in a new run directory in runs/.")
    String out;

    @Mixin
    SetOptions setOptions;

    /**
     * One measured phase: what ran, how many messages and micro-ops in how much wall time, and
     * for a baseline the fewest balls one of its players received (null for the emulator).
     */
    record Phase(String name, long messages, long microOps, double wallSeconds, Long leastPerActor) {
        double messagesPerSecond() {
            return wallSeconds > 0 ? messages / wallSeconds : 0;
        }

        double microOpsPerSecond() {
            return wallSeconds > 0 ? microOps / wallSeconds : 0;
        }

        static Phase of(String name, Baseline.Result r) {
            return new Phase(name, r.messages(), 0, r.wallSeconds(), r.leastPerActor());
        }

        static Phase of(String name, RunResult r) {
            return new Phase(name, r.counters().getOrDefault("messages", 0L), r.counters().getOrDefault("microOps", 0L),
                    r.wallSeconds(), null);
        }
    }

    /** Start-up and memory of the emulator at one size. */
    record Footprint(double startupSeconds, long heapBeforeBytes, long heapLiveBytes, long totalVcpus) {
        long bytesPerVcpu() {
            return Math.max(0, heapLiveBytes - heapBeforeBytes) / Math.max(1, totalVcpus);
        }
    }

    /** What one size of the topology gave: its JSON, its row of the growth table (concurrent engine), conservation. */
    private record SizeResult(String growthRow, boolean conserved, int warnings) {}

    /** The emulator's measured run, its start-up and memory when they were taken, and the machine's load meanwhile. */

    @Override
    public Integer call() throws InterruptedException, IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration measure;
        Duration warm;
        List<LoadedSettings> sizes;
        LoadedSettings exploreBase = null;
        Path outPath;
        try {
            measure = ExploreCommand.parseDuration("--duration", duration);
            warm = ExploreCommand.parseDuration("--warmup", warmup);
            settleAt = ExploreCommand.parseDuration("--settle", settle);
            checkOptions(measure, warm);
            sizes = loadSizes();
            if (engines.contains(Part.explore)) {
                // Checked here, once: the explore phase loads the same settings again for every seed.
                exploreBase = new SettingsLoader().load(Optional.ofNullable(topology), exploreSets());
            }
            outPath = outPath();
        } catch (ConfigProblem p) {
            err.println(p.getMessage());
            return Main.BAD_INPUT;
        }

        StoredRun stored = null;
        if (out == null) {
            try {
                stored = Stored.open(spec, "bench", engines.stream().map(Enum::name).sorted().collect(Collectors.joining(",")),
                        sizes.get(0), RunStore.DEFAULT_ROOT, err);
            } catch (Conclusion.BadInput b) {
                return Main.BAD_INPUT;
            }
            outPath = stored.report();
        }
        Runtime rt = Runtime.getRuntime();
        o.printf("vcpu-emu %s bench: %s, %d cores, max heap %d MiB, %s collector, Java %s; %s measured after %s "
                        + "warm-up per phase%s%s%n",
                Main.version(), sizes.get(0).source(), rt.availableProcessors(), rt.maxMemory() >> 20,
                BenchPhases.collector(), System.getProperty("java.version"), ValidateCommand.human(measure),
                ValidateCommand.human(warm),
                settleAt.isZero() ? "" : ", emulator runs from " + ValidateCommand.human(settleAt) + " simulated on",
                repeat > 1 ? ", " + repeat + " rounds" : "");
        o.flush();

        ObjectNode root = header(sizes.get(0), measure, warm);
        ArrayNode results = root.putArray("sizes");
        boolean conserved = true;
        int warnings = 0;
        List<String> growth = new ArrayList<>();
        int phasesPerRound = (engines.contains(Part.concurrent) ? 2 : 0)
                + (engines.contains(Part.deterministic) ? 3 : 0);
        Progress progress = new Progress(err, sizes.size() * repeat * phasesPerRound
                + (exploreBase != null ? repeat : 0), warm, measure);
        for (LoadedSettings loaded : phasesPerRound == 0 ? List.<LoadedSettings>of() : sizes) {
            SizeResult r = measureSize(loaded, results.addObject(), warm, measure, progress, o, err);
            conserved &= r.conserved();
            warnings += r.warnings();
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
        if (exploreBase != null) {
            BenchExplore.Result r = new BenchExplore(topology, exploreSets(), repeat).measure(exploreBase, root, warm, measure,
                    progress, o, err);
            conserved &= r.conserved();
            warnings += r.warnings();
        }
        if (warnings > 0) {
            o.printf("%n%d warning(s): the figures above are suspect (see WARNING lines)%n", warnings);
        }
        if (outPath != null) {
            Report.write(outPath, root);
            o.println("Results: " + outPath);
        }
        o.flush();
        return Stored.finish(stored, conserved ? Main.OK : Main.EMULATOR_FAILURE, err);
    }

    private void checkOptions(Duration measure, Duration warm) throws ConfigProblem {
        if (measure.isZero() || measure.isNegative()) {
            throw new ConfigProblem("--duration", null, "must be positive, got " + duration);
        }
        if (warm.isNegative()) {
            throw new ConfigProblem("--warmup", null, "must not be negative, got " + warmup);
        }
        if (settleAt.isNegative()) {
            throw new ConfigProblem("--settle", null, "must not be negative, got " + settle);
        }
        if (vcpus.stream().anyMatch(n -> n < 1)) {
            throw new ConfigProblem("--vcpus", null, "every size must be at least 1, got " + vcpus);
        }
        if (engines.isEmpty()) {
            throw new ConfigProblem("--engines", null, "name at least one engine");
        }
        if (repeat < 1) {
            throw new ConfigProblem("--repeat", null, "must be at least 1, got " + repeat);
        }
    }

    /** The explore phase's overrides: {@code --set}, then {@link #EXPLORE}. */
    List<String> exploreSets() {
        List<String> sets = new ArrayList<>(setOptions.sets);
        sets.addAll(EXPLORE);
        return sets;
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
        if (out == null || out.isEmpty()) {
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
        machine.put("collector", BenchPhases.collector());
        machine.put("java", System.getProperty("java.version"));
        machine.put("vm", System.getProperty("java.vm.name"));
        root.put("topology", first.source());
        ArrayNode stress = root.putArray("sets");
        (topology == null ? STRESS : List.<String>of()).forEach(stress::add);
        setOptions.sets.forEach(stress::add);
        root.put("measureSeconds", measure.toNanos() / 1e9);
        root.put("warmupSeconds", warm.toNanos() / 1e9);
        root.put("settleSimulatedSeconds", settleAt.toNanos() / 1e9);
        root.put("repeat", repeat);
        return root;
    }

    /** One measured run of a phase: its figures, the emulator's footprint (or null), the machine's load, conservation. */
    /** @param engine an emulator phase's user-level figures, else null */
    record Sample(Phase phase, Footprint footprint, MachineLoad.Load load, boolean conserved, EngineFigures engine) {
        Sample(Phase phase, Footprint footprint, MachineLoad.Load load, boolean conserved) {
            this(phase, footprint, load, conserved, null);
        }
    }

    /** A phase of the bench: its JSON key, its name, and how to run it once (warm-up and measured run). */
    private record Task(String key, String name, PhaseRun run) {}

    @FunctionalInterface
    private interface PhaseRun {
        Sample run() throws InterruptedException;
    }

    /** The phases asked for at one size, in the order they run in each round. */
    private List<Task> tasks(LoadedSettings loaded, int actors, Duration warm, Duration measure, PrintWriter err) {
        List<Task> tasks = new ArrayList<>();
        if (engines.contains(Part.concurrent)) {
            tasks.add(new Task("rawConcurrent", "raw Pekko, simulation dispatcher",
                    () -> BenchPhases.baseline(Baseline.Dispatcher.CONCURRENT, loaded, actors, warm, measure)));
            tasks.add(new Task("emulatorConcurrent", "emulator, concurrent engine", () -> {
                BenchPhases.Measured m = BenchPhases.emulator(loaded, false, warm, measure, settleAt, true);
                return new Sample(Phase.of("emulator, concurrent engine", m.result()), m.footprint(), m.load(),
                        conservation(m.result(), err), m.figures());
            }));
        }
        if (engines.contains(Part.deterministic)) {
            tasks.add(new Task("rawSingleThread", "raw Pekko, one thread",
                    () -> BenchPhases.baseline(Baseline.Dispatcher.SINGLE_THREAD, loaded, actors, warm, measure)));
            tasks.add(new Task("rawSeededExecutor", "raw Pekko, seeded executor",
                    () -> BenchPhases.baseline(Baseline.Dispatcher.SEEDED, loaded, actors, warm, measure)));
            tasks.add(new Task("emulatorDeterministic", "emulator, deterministic engine", () -> {
                BenchPhases.Measured m = BenchPhases.emulator(loaded, true, warm, measure, settleAt, false);
                return new Sample(Phase.of("emulator, deterministic engine", m.result()), null, m.load(),
                        conservation(m.result(), err), m.figures());
            }));
        }
        return tasks;
    }

    /**
     * The ratios reported: JSON name, numerator phase, denominator phase, and for those of the
     * emulator against raw Pekko the words printed. Such a ratio may exceed 100 %: a vCPU sends
     * its steps to itself, up to {@code engine.mailbox-throughput} of them per turn of its
     * mailbox, where every ball of the ping-pong baseline switches actors.
     */
    private static final List<String[]> RATIOS = List.of(
            new String[] {"concurrent", "emulatorConcurrent", "rawConcurrent", "emulator / raw"},
            new String[] {"deterministic", "emulatorDeterministic", "rawSingleThread", "deterministic / one thread"},
            new String[] {"deterministicVsSeededExecutor", "emulatorDeterministic", "rawSeededExecutor",
                    "deterministic / seeded executor"},
            new String[] {"seededExecutorVsSingleThread", "rawSeededExecutor", "rawSingleThread", null});

    /**
     * Every engine asked for, each against its raw Pekko baselines, at one size: {@code --repeat}
     * rounds, each running every phase once (A B A B: a disturbance hits both sides of a ratio
     * alike), then per phase the median and the range of the rounds.
     */
    private SizeResult measureSize(LoadedSettings loaded, ObjectNode size, Duration warm, Duration measure,
                                   Progress progress, PrintWriter o, PrintWriter err) throws InterruptedException {
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
        List<Task> tasks = tasks(loaded, actors, warm, measure, err);
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        tasks.forEach(t -> samples.put(t.key(), new ArrayList<>()));
        boolean conserved = true;
        List<String> warnings = new ArrayList<>();
        for (int round = 1; round <= repeat; round++) {
            for (Task t : tasks) {
                progress.starting(t.name(), round, repeat);
                Sample x = t.run().run();
                samples.get(t.key()).add(x);
                conserved &= x.conserved();
                print(o, x.phase(), repeat > 1 ? String.format("   run %d/%d", round, repeat) : "");
                if (x.engine() != null) {
                    x.engine().print(o);
                }
                String collector = x.load().collectorLine();
                if (collector != null) {
                    o.printf("  %-34s %s%n", "", collector);
                }
                String busy = x.load().warning();
                if (busy != null) {
                    String w = t.name() + (repeat > 1 ? " run " + round : "") + ": " + busy;
                    warnings.add(w);
                    o.println("  WARNING " + w);
                    o.flush();
                }
            }
        }
        ObjectNode phases = size.putObject("phases");
        if (repeat > 1) {
            o.printf("  median of %d runs (min-max):%n", repeat);
        }
        for (Task t : tasks) {
            List<Sample> xs = samples.get(t.key());
            ObjectNode x = put(phases, t.key(), t.name(), xs);
            if (repeat > 1) {
                o.printf("  %-34s %8.2f M msg/s (%.2f-%.2f)%s%n", t.name(), x.get("messagesPerSecond").asDouble() / 1e6,
                        x.get("messagesPerSecondMin").asDouble() / 1e6, x.get("messagesPerSecondMax").asDouble() / 1e6,
                        x.has("microOpsPerSecond") ? String.format("  %8.2f M micro-ops/s (%.2f-%.2f)",
                                x.get("microOpsPerSecond").asDouble() / 1e6, x.get("microOpsPerSecondMin").asDouble() / 1e6,
                                x.get("microOpsPerSecondMax").asDouble() / 1e6) : "");
            }
        }
        ObjectNode ratios = size.putObject("ratios");
        ObjectNode ranges = size.putObject("ratioRanges");
        List<String> ratioText = new ArrayList<>();
        for (String[] r : RATIOS) {
            List<Sample> num = samples.get(r[1]);
            List<Sample> den = samples.get(r[2]);
            if (num == null || den == null) {
                continue;
            }
            // Per round: the two phases of a ratio ran minutes apart at most, under the same conditions.
            double[] perRound = new double[num.size()];
            for (int i = 0; i < perRound.length; i++) {
                perRound[i] = num.get(i).phase().messagesPerSecond() / den.get(i).phase().messagesPerSecond();
            }
            double median = median(perRound);
            ratios.put(r[0], median);
            ObjectNode range = ranges.putObject(r[0]);
            range.put("min", Arrays.stream(perRound).min().orElse(0));
            range.put("max", Arrays.stream(perRound).max().orElse(0));
            if (r[3] != null) {
                ratioText.add(String.format("%s = %.1f%%%s", r[3], 100 * median, repeat > 1
                        ? String.format(" (%.1f-%.1f%%)", 100 * range.get("min").asDouble(), 100 * range.get("max").asDouble())
                        : ""));
            }
        }
        String growthRow = null;
        if (!ratioText.isEmpty()) {
            JsonNode concurrent = phases.get("emulatorConcurrent");
            o.printf("  ratio: %s%s%n", String.join("; ", ratioText), concurrent == null ? ""
                    : String.format("; start-up %.2f s, live heap %,d MiB, %,d bytes per vCPU",
                    concurrent.get("startupSeconds").asDouble(), concurrent.get("heapLiveBytes").asLong() >> 20,
                    concurrent.get("bytesPerVcpu").asLong()));
            if (concurrent != null) {
                growthRow = String.format("| %,d | %,d | %.2f | %,d | %,d | %.2f | %.2f | %.2f | %.0f%% |",
                        s.topology().totalVcpus(), actors, concurrent.get("startupSeconds").asDouble(),
                        concurrent.get("heapLiveBytes").asLong() >> 20, concurrent.get("bytesPerVcpu").asLong(),
                        concurrent.get("microOpsPerSecond").asDouble() / 1e6,
                        concurrent.get("messagesPerSecond").asDouble() / 1e6,
                        phases.get("rawConcurrent").get("messagesPerSecond").asDouble() / 1e6, 100 * ratios.get("concurrent").asDouble());
            }
        }
        ArrayNode w = size.putArray("warnings");
        warnings.forEach(w::add);
        o.flush();
        return new SizeResult(growthRow, conserved, warnings.size());
    }

    /** The median of the values (the mean of the middle two for an even count). */
    static double median(double... values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** One line per phase run as it starts, on stderr, with the time the bench still needs. */
    static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final Duration warm;
        private final Duration measure;
        private int done;

        Progress(PrintWriter err, int total, Duration warm, Duration measure) {
            this.err = err;
            this.total = total;
            this.warm = warm;
            this.measure = measure;
        }

        void starting(String name, int round, int rounds) {
            long left = warm.plus(measure).multipliedBy(total - done).toSeconds();
            done++;
            err.printf("bench: phase %d/%d: %s%s: %s warm-up, %s measured (about %s left)%n", done, total, name,
                    rounds > 1 ? " (round " + round + "/" + rounds + ")" : "", ValidateCommand.human(warm),
                    ValidateCommand.human(measure),
                    left >= 60 ? left / 60 + " min " + left % 60 + " s" : left + " s");
            err.flush();
        }
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

    private static boolean conservation(RunResult r, PrintWriter err) {
        if (!r.conservation().held()) {
            err.println("vcpu-emu: emulator failure: conservation broken: " + r.conservation().detail());
        }
        return r.conservation().held();
    }

    private static void print(PrintWriter o, Phase p, String suffix) {
        o.printf("  %-34s %8.2f M msg/s%s   (%,d messages in %.2f s)%s%n", p.name(), p.messagesPerSecond() / 1e6,
                p.microOps() > 0 ? String.format("  %8.2f M micro-ops/s", p.microOpsPerSecond() / 1e6) : "",
                p.messages(), p.wallSeconds(), suffix);
        o.flush();
    }

    /**
     * A phase's runs in the JSON: the rates are the median of the runs, with their range
     * ({@code ...Min}, {@code ...Max}); messages and wall time are summed over the runs; each run
     * is listed under {@code runs} with the cores other processes took meanwhile.
     */
    static ObjectNode put(ObjectNode phases, String key, String name, List<Sample> runs) {
        ObjectNode x = phases.putObject(key);
        x.put("name", name);
        x.put("runCount", runs.size());
        x.put("messages", runs.stream().mapToLong(r -> r.phase().messages()).sum());
        x.put("wallSeconds", runs.stream().mapToDouble(r -> r.phase().wallSeconds()).sum());
        putStat(x, "messagesPerSecond", runs.stream().mapToDouble(r -> r.phase().messagesPerSecond()).toArray());
        if (runs.stream().anyMatch(r -> r.phase().microOps() > 0)) {
            x.put("microOps", runs.stream().mapToLong(r -> r.phase().microOps()).sum());
            putStat(x, "microOpsPerSecond", runs.stream().mapToDouble(r -> r.phase().microOpsPerSecond()).toArray());
        }
        EngineFigures.put(x, runs.stream().map(Sample::engine).toList());
        if (runs.stream().noneMatch(r -> r.load().collectorCores().isEmpty())) {
            putStat(x, "collectorCores", runs.stream().mapToDouble(r -> r.load().collectorTotal()).toArray());
        }
        List<Footprint> footprints = runs.stream().map(Sample::footprint).filter(f -> f != null).toList();
        if (!footprints.isEmpty()) {
            x.put("startupSeconds", median(footprints.stream().mapToDouble(Footprint::startupSeconds).toArray()));
            x.put("heapBeforeBytes", (long) median(footprints.stream().mapToDouble(Footprint::heapBeforeBytes).toArray()));
            x.put("heapLiveBytes", (long) median(footprints.stream().mapToDouble(Footprint::heapLiveBytes).toArray()));
            x.put("bytesPerVcpu", (long) median(footprints.stream().mapToDouble(Footprint::bytesPerVcpu).toArray()));
        }
        ArrayNode each = x.putArray("runs");
        for (Sample r : runs) {
            ObjectNode e = each.addObject();
            e.put("messages", r.phase().messages());
            e.put("wallSeconds", r.phase().wallSeconds());
            e.put("messagesPerSecond", r.phase().messagesPerSecond());
            if (r.phase().microOps() > 0) {
                e.put("microOpsPerSecond", r.phase().microOpsPerSecond());
            }
            if (r.phase().leastPerActor() != null) {
                e.put("leastPerActor", r.phase().leastPerActor());
            }
            if (r.engine() != null && r.engine().settle() != null) {
                e.put("settledAtSimulatedSeconds", r.engine().settle().simulatedSeconds());
                e.put("settleWallSeconds", r.engine().settle().wallSeconds());
            }
            e.put("otherProcessesCores", r.load().otherCores());
            e.put("ownCores", r.load().ownCores());
            e.put("loadAverage", r.load().loadAverage());
            if (!r.load().collectorCores().isEmpty()) {
                e.put("collectorCores", r.load().collectorTotal());
                ObjectNode kinds = e.putObject("collectorThreadCores");
                r.load().collectorCores().forEach(kinds::put);
            }
        }
        return x;
    }

    static void putStat(ObjectNode x, String name, double[] values) {
        x.put(name, median(values));
        x.put(name + "Min", Arrays.stream(values).min().orElse(0));
        x.put(name + "Max", Arrays.stream(values).max().orElse(0));
    }
}
