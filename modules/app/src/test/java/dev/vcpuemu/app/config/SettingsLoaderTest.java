package dev.vcpuemu.app.config;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsLoaderTest {
    private final SettingsLoader loader = new SettingsLoader();

    @TempDir
    Path dir;

    // ------------------------------------------------------------------ helpers

    private Path file(String name, String... lines) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n");
        return p;
    }

    private String problem(Path file, String... sets) {
        ConfigProblem e = assertThrows(ConfigProblem.class,
                () -> loader.load(Optional.ofNullable(file), List.of(sets)));
        String m = e.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        return m;
    }

    private Settings load(Path file, String... sets) throws ConfigProblem {
        return loader.load(Optional.ofNullable(file), List.of(sets)).settings();
    }

    /** The project's conf/ directory: -Dvcpuemu.conf, else the nearest conf/ above the working directory. */
    static Path confDir() {
        String prop = System.getProperty("vcpuemu.conf");
        if (prop != null && Files.isRegularFile(Paths.get(prop, "default.conf"))) {
            return Paths.get(prop);
        }
        for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("conf").resolve("default.conf"))) {
                return d.resolve("conf");
            }
        }
        throw new IllegalStateException("no conf/default.conf above " + Paths.get("").toAbsolutePath());
    }

    // ------------------------------------------------------------------ defaults

    @Test
    void defaultConfEqualsEmbeddedDefault() throws ConfigProblem {
        Path defaultConf = confDir().resolve("default.conf");
        LoadedSettings embedded = loader.load(Optional.empty(), List.of());
        LoadedSettings spelled = loader.load(Optional.of(defaultConf), List.of());
        assertEquals(embedded.settings(), spelled.settings());
        assertEquals(SettingsLoader.EMBEDDED, embedded.source());
        assertEquals(defaultConf.toString(), spelled.source());
    }

    @Test
    void embeddedDefaultIsTheDocumentedTopology() throws ConfigProblem {
        LoadedSettings l = loader.loadDefault();
        Settings s = l.settings();
        assertEquals(new Settings.Run(Duration.ofSeconds(10), 42, Duration.ofSeconds(1), "runs/"), s.run());
        assertEquals(new Settings.Engine(20_000, 5, 64, 5, 0), s.engine());
        assertEquals(4, s.topology().vcpus());
        assertEquals(new Settings.Host(Settings.HostEra.INTERRUPT, 100_000, 4,
                new Settings.Latency(Settings.Latency.Distribution.EXPONENTIAL, 200_000, 20_000, 2_000_000),
                0.6, 50, Settings.HostBugs.NONE, Settings.HostFixes.ALL, 1, -1), s.host());
        assertEquals(new Settings.Guest(Settings.GuestEra.INTERRUPT, true, true, 3, 64, 1_000_000, 4_000_000,
                50_000_000, 20_000_000, 20, Settings.ApfDisable.NEVER, Settings.GuestBugs.NONE, 0.0, -1,
                Settings.Smi.NONE, Settings.Nested.NONE, new Settings.Code(6, 2, 20, 12, 130, 80, 6, 9, 14, 50)), s.guest());
        assertEquals(new Settings.Workload(256, 192, Settings.AccessPattern.HOT_COLD, 0.2, 0.8, 8, 0.02, 4, 0.3, 0.2),
                s.workload());
        assertEquals(List.of(new Settings.NmiSource("perf", List.of(), 100_000, 0.5, 0.0)), s.nmi().sources());
        assertEquals(new Settings.Expect(List.of(), List.of(), Map.of(), true), s.expect());
        // Pekko's reference is in the resolved configuration: an ActorSystem can be built from it.
        assertTrue(l.config().hasPath("pekko.actor.default-dispatcher.throughput"));
    }

    // ------------------------------------------------------------------ overrides

    @Test
    void setOverridesFileValue() throws Exception {
        Path f = file("eight.conf",
                "vcpu-emu.topology.vcpus = 8",
                "vcpu-emu.host.era = interrupt");
        assertEquals(8, load(f).topology().vcpus());
        assertEquals(new Settings.Topology(3, 8), load(f, "topology.guests=3").topology());
        assertEquals(24, load(f, "topology.guests=3").topology().totalVcpus());
        Settings s = load(f, "topology.vcpus=16", "vcpu-emu.host.era=legacy", "topology.vcpus=2");
        assertEquals(2, s.topology().vcpus(), "the last --set wins");
        assertEquals(Settings.HostEra.LEGACY, s.host().era());
        LoadedSettings l = loader.load(Optional.of(f), List.of("topology.vcpus=16"));
        assertEquals(16, l.config().getInt("vcpu-emu.topology.vcpus"));
        assertEquals(List.of("topology.vcpus=16"), l.sets());
    }

    @Test
    void fileOverridesDefaultsAndReadsEveryShape() throws Exception {
        Path f = file("full.conf",
                "vcpu-emu {",
                "  host.swap-in-latency { distribution = uniform, min = 1us, max = 3us }",
                "  engine.quantum = 1us",
                "  workload.pattern = uniform",
                "  guest.async-pf = off",
                "  guest.nested { l2-vcpu-threads = 2, delivery-as-pf-vmexit = off }",
                "  nmi.sources = [ { name = watchdog, targets = [0, 3], interval = 1ms } ]",
                "  expect { present = [LOST_WAKEUP], absent = [guest-panic], detail-contains { HUNG_TASK = \"token\" } }",
                "}");
        Settings s = load(f);
        assertEquals(Settings.Latency.Distribution.UNIFORM, s.host().swapIn().distribution());
        assertEquals(Settings.AccessPattern.UNIFORM, s.workload().pattern());
        assertFalse(s.guest().asyncPf());
        assertEquals(new Settings.Nested(2, false), s.guest().nested());
        assertEquals(List.of(new Settings.NmiSource("watchdog", List.of(0, 3), 1_000_000, 0.0, 0.0)), s.nmi().sources());
        assertEquals(List.of(FindingKind.LOST_WAKEUP), s.expect().present());
        assertEquals(List.of(FindingKind.GUEST_PANIC), s.expect().absent());
        assertEquals(Map.of(FindingKind.HUNG_TASK, "token"), s.expect().detailContains());
    }

    // ------------------------------------------------------------------ bad input, one kind per test

    @Test
    void unknownKeyWithSuggestion() throws Exception {
        Path f = file("bad.conf",
                "vcpu-emu {",
                "  topology {",
                "    vcpus = 4",
                "  }",
                "  # a typo follows",
                "  topology {",
                "    vcpu = 8",
                "  }",
                "}");
        assertEquals(f + ":7: vcpu-emu.topology.vcpu: unknown key (did you mean vcpu-emu.topology.vcpus?)", problem(f));
    }

    @Test
    void apfDisableOfAVcpuThatDoesNotExist() throws Exception {
        Path f = file("disable.conf",
                "vcpu-emu.topology.vcpus = 2",
                "vcpu-emu.guest.apf-disable { at = 2ms, vcpus = [0, 2] }");
        assertEquals(f + ":2: vcpu-emu.guest.apf-disable.vcpus[1]: must be a vCPU id between 0 and 1 (vcpus is 2), got 2",
                problem(f));
        Path g = file("disable-at.conf", "vcpu-emu.guest.apf-disable.at = soon");
        assertTrue(problem(g).startsWith(g + ":1: vcpu-emu.guest.apf-disable.at: expected a duration"), problem(g));
        assertEquals(new Settings.ApfDisable(2_000_000, List.of(1), false, -1),
                load(null, "guest.apf-disable={at=2ms, vcpus=[1], wake-all=off}").guest().apfDisable());
    }

    @Test
    void misplacedAndTopLevelKeys() throws Exception {
        Path f = file("misplaced.conf", "vcpu-emu.host.vcpus = 8");
        assertEquals(f + ":1: vcpu-emu.host.vcpus: unknown key (did you mean vcpu-emu.guest.apf-disable.vcpus or "
                + "vcpu-emu.topology.vcpus?)", problem(f));
        Path g = file("noroot.conf", "", "topology { vcpus = 8 }");
        assertEquals(g + ":2: topology: unknown top-level key (did you mean vcpu-emu.topology?)", problem(g));
        Path h = file("nmi.conf", "vcpu-emu.nmi.sources = [", "  { name = a, interval = 1ms,", "    jiter = 0.1 } ]");
        assertEquals(h + ":3: vcpu-emu.nmi.sources[0].jiter: unknown key (did you mean vcpu-emu.nmi.sources[0].jitter?)",
                problem(h));
        Path k = file("kind.conf", "vcpu-emu.expect.detail-contains { LOST_WAKEUPS = x }");
        assertEquals(k + ":1: vcpu-emu.expect.detail-contains.LOST_WAKEUPS: unknown finding kind (did you mean LOST_WAKEUP?)",
                problem(k));
        Path p = file("present.conf", "vcpu-emu.expect.present = [HUNG]");
        assertEquals(p + ":1: vcpu-emu.expect.present[0]: unknown finding kind \"HUNG\" (did you mean HUNG_TASK?)",
                problem(p));
    }

    @Test
    void wrongType() throws Exception {
        Path f = file("bad.conf",
                "vcpu-emu {",
                "  topology {",
                "    vcpus = \"four\"",
                "  }",
                "}");
        assertEquals(f + ":3: vcpu-emu.topology.vcpus: expected a number but got a string (\"four\")", problem(f));
        Path g = file("unitless.conf", "vcpu-emu.engine.quantum = 20");
        assertEquals(g + ":1: vcpu-emu.engine.quantum: expected a duration with a unit (ns, us, ms, s, m, h, d; "
                + "e.g. 20us) but got a number (20)", problem(g));
        Path h = file("block.conf", "vcpu-emu.host.memory = 5");
        assertEquals(h + ":1: vcpu-emu.host.memory: expected an object but got a number (5)", problem(h));
    }

    @Test
    void impossibleTopology() throws Exception {
        Path f = file("bad.conf", "vcpu-emu {", "  topology {", "    vcpus = 0", "  }", "}");
        assertEquals(f + ":3: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 0", problem(f));
        Path g = file("many.conf", "vcpu-emu.topology.vcpus = 4096");
        assertEquals(g + ":1: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 4096", problem(g));
        Path n = file("guests.conf", "vcpu-emu.topology.guests = 0");
        assertEquals(n + ":1: vcpu-emu.topology.guests: must be between 1 and 1024, got 0", problem(n));
        Path h = file("target.conf", "vcpu-emu.nmi.sources = [ { name = w, targets = [4], interval = 1ms } ]");
        assertEquals(h + ":1: vcpu-emu.nmi.sources[0].targets[0]: must be a vCPU id between 0 and 3 (vcpus is 4), got 4",
                problem(h));
        Path m = file("mapped.conf", "vcpu-emu.workload.working-set-pages = 100");
        assertEquals(m + ":1: vcpu-emu.workload.working-set-pages: must be at least vcpu-emu.workload.mapped-pages (192), got 100",
                problem(m));
        Path l2 = file("l2.conf", "vcpu-emu {", "  guest.tasks-per-vcpu = 2", "  guest.nested.l2-vcpu-threads = 3", "}");
        assertEquals(l2 + ":3: vcpu-emu.guest.nested.l2-vcpu-threads: must be at most vcpu-emu.guest.tasks-per-vcpu (2),"
                + " as each L2 vCPU thread is one of the vCPU's tasks, got 3", problem(l2));
    }

    // ------------------------------------------------------------------ ends and limits

    /** A swap-in no shorter than a 1 ms quantum (the lookahead rule). */
    private static final String SLOW_SWAP_IN = "host.swap-in-latency={distribution=fixed, mean=1ms}";

    @Test
    void quantumAtMostOneMillisecond() throws Exception {
        Path f = file("year.conf", "vcpu-emu {", "  engine.quantum = 365d", "}");
        assertEquals(f + ":2: vcpu-emu.engine.quantum: must be at most 1ms, got 365d", problem(f));
        assertEquals("--set engine.quantum=1s: vcpu-emu.engine.quantum: must be at most 1ms, got 1s",
                problem(null, "engine.quantum=1s"));
        assertEquals("--set engine.quantum=1001us: vcpu-emu.engine.quantum: must be at most 1ms, got 1001us",
                problem(null, "engine.quantum=1001us"));
        assertEquals(1_000_000, load(null, "engine.quantum=1ms", "host.swap-in-latency.distribution=fixed",
                "host.swap-in-latency.mean=1ms").engine().quantumNanos());
    }

    @Test
    void swapInNoShorterThanTheQuantum() throws Exception {
        // DESIGN §3: a completion has lookahead only if it falls due after the quantum that issued it.
        Path f = file("fast.conf", "vcpu-emu {", "  host.swap-in-latency { distribution = uniform, min = 1us, max = 3us }", "}");
        assertEquals(f + ":2: vcpu-emu.host.swap-in-latency.min: must be at least vcpu-emu.engine.quantum (20us) so that"
                + " a completion falls due after the quantum that issued it; lower the quantum for faster swap-ins; got 1us",
                problem(f));
        assertEquals("--set engine.quantum=100us: vcpu-emu.engine.quantum: must be at most"
                + " vcpu-emu.host.swap-in-latency.min (20us), the shortest swap-in, so that a completion falls due after"
                + " the quantum that issued it; got 100us", problem(null, "engine.quantum=100us"));
        Path fixed = file("fixed.conf", "vcpu-emu.host.swap-in-latency { distribution = fixed, mean = 10us }");
        assertEquals(fixed + ":1: vcpu-emu.host.swap-in-latency.mean: must be at least vcpu-emu.engine.quantum (20us)"
                + " so that a completion falls due after the quantum that issued it; lower the quantum for faster"
                + " swap-ins; got 10us", problem(fixed));
        assertEquals(1_000, load(f, "engine.quantum=1us").engine().quantumNanos(), "equal to the quantum is enough");
        assertEquals(20_000, load(null, "host.swap-in-latency.min=20us").host().swapIn().minNanos());
    }

    @Test
    void evictRateFiniteAndBounded() throws Exception {
        Path f = file("inf.conf", "vcpu-emu.host.memory.evict-rate = 1e400");
        assertEquals(f + ":1: vcpu-emu.host.memory.evict-rate: must be between 0 and 10000 (frames per virtual "
                + "millisecond), got Infinity", problem(f));
        assertEquals("--set host.memory.evict-rate=1e308: vcpu-emu.host.memory.evict-rate: must be between 0 and 10000 "
                + "(frames per virtual millisecond), got 1.0E308", problem(null, "host.memory.evict-rate=1e308"));
        assertEquals("--set host.memory.evict-rate=\"1e400\": vcpu-emu.host.memory.evict-rate: must be between 0 and "
                + "10000 (frames per virtual millisecond), got 1e400", problem(null, "host.memory.evict-rate=\"1e400\""));
        assertEquals("--set host.memory.evict-rate=10001: vcpu-emu.host.memory.evict-rate: must be between 0 and 10000 "
                + "(frames per virtual millisecond), got 10001", problem(null, "host.memory.evict-rate=10001"));
        assertEquals("--set host.memory.evict-rate=-1: vcpu-emu.host.memory.evict-rate: must be between 0 and 10000 "
                + "(frames per virtual millisecond), got -1", problem(null, "host.memory.evict-rate=-1"));
        // HOCON has no literal for NaN or infinity: the words are strings, not numbers.
        assertEquals("--set host.memory.evict-rate=NaN: vcpu-emu.host.memory.evict-rate: expected a number but got "
                + "a string (\"NaN\")", problem(null, "host.memory.evict-rate=NaN"));
        assertEquals("--set host.memory.evict-rate=Infinity: vcpu-emu.host.memory.evict-rate: expected a number but "
                + "got a string (\"Infinity\")", problem(null, "host.memory.evict-rate=Infinity"));
        assertEquals(10_000, load(null, "host.memory.evict-rate=10000").host().evictPerMilli());
        assertEquals(0, load(null, "host.memory.evict-rate=0").host().evictPerMilli());
    }

    @Test
    void periodsAtLeastTheOpCost() throws Exception {
        Path f = file("exit.conf", "vcpu-emu {", "  engine.op-cost = 10ns", "  host.exit-interval = 9ns", "}");
        assertEquals(f + ":3: vcpu-emu.host.exit-interval: must be at least vcpu-emu.engine.op-cost (10ns), got 9ns",
                problem(f));
        assertEquals("--set guest.tick-period=4ns: vcpu-emu.guest.tick-period: must be at least "
                + "vcpu-emu.engine.op-cost (5ns), got 4ns", problem(null, "guest.tick-period=4ns"));
        assertEquals("--set guest.smi.interval=1ns: vcpu-emu.guest.smi.interval: must be at least "
                + "vcpu-emu.engine.op-cost (5ns), got 1ns", problem(null, "guest.smi.interval=1ns"));
        Path n = file("nmi.conf", "vcpu-emu.nmi.sources = [", "  { name = a, interval = 1ms },",
                "  { name = b, interval = 3ns } ]");
        assertEquals(n + ":3: vcpu-emu.nmi.sources[1].interval: must be at least vcpu-emu.engine.op-cost (5ns), got 3ns",
                problem(n));
        // Only the op cost was set: it is the one blamed, against the first default period it passes.
        assertEquals("--set engine.op-cost=200us: vcpu-emu.engine.op-cost: must not exceed vcpu-emu.host.exit-interval "
                + "(100us), got 200us", problem(null, "engine.quantum=1ms", SLOW_SWAP_IN, "engine.op-cost=200us"));
        assertEquals("--set engine.op-cost=101us: vcpu-emu.engine.op-cost: must not exceed "
                + "vcpu-emu.nmi.sources[0].interval (100us), got 101us",
                problem(null, "engine.quantum=1ms", SLOW_SWAP_IN, "engine.op-cost=101us", "host.exit-interval=1ms"));
        Settings s = load(null, "guest.tick-period=5ns", "host.exit-interval=5ns", "guest.smi.interval=5ns",
                "nmi.sources=[{name=a, interval=5ns}]");
        assertEquals(5, s.guest().tickPeriodNanos());
        assertEquals(5, s.host().exitIntervalNanos());
        assertEquals(5, s.guest().smi().intervalNanos());
        assertEquals(5, s.nmi().sources().get(0).intervalNanos());
        assertEquals(-1, load(null, "guest.smi.interval=off").guest().smi().intervalNanos());
    }

    @Test
    void runDurationsAtMostAYear() throws Exception {
        Path f = file("long.conf", "vcpu-emu.run.duration = 366d");
        assertEquals(f + ":1: vcpu-emu.run.duration: must be at most 365d, got 366d", problem(f));
        assertEquals("--set run.duration=1e400d: vcpu-emu.run.duration: must be at most 365d, got 1e400d",
                problem(null, "run.duration=1e400d"));
        assertEquals("--set run.progress-interval=300000000d: vcpu-emu.run.progress-interval: must be at most 365d, "
                + "got 300000000d", problem(null, "run.progress-interval=300000000d"));
        assertEquals(Duration.ofDays(365), load(null, "run.duration=365d").run().duration());
    }

    @Test
    void parallelismWithinWhatAForkJoinPoolTakes() throws Exception {
        assertEquals("--set engine.parallelism=32768: vcpu-emu.engine.parallelism: must be between 0 and 32767, got 32768",
                problem(null, "engine.parallelism=32768"));
        assertEquals(32_767, load(null, "engine.parallelism=32767").engine().parallelism());
    }

    @Test
    void missingFile() {
        Path f = Paths.get("conf", "missing.conf");
        assertEquals("conf/missing.conf: cannot read topology file: no such file".replace('/', java.io.File.separatorChar),
                problem(f));
    }

    @Test
    void anIncludeOfAMissingFileIsBadInputAndAnExistingOneIsRead() throws Exception {
        // HOCON itself reads a missing include as empty: a typo would run the defaults in its place.
        Path f = file("top.conf", "vcpu-emu.run.duration = 1ms", "include \"bsae.conf\"");
        assertEquals(f + ": cannot read topology file: include \"bsae.conf\": not found (neither a file beside the"
                + " including file nor a class path resource)", problem(f));
        Path g = file("top-file.conf", "include file(\"" + dir.resolve("nowhere.conf") + "\")");
        assertTrue(problem(g).contains("nowhere.conf"), problem(g));
        file("base.conf", "vcpu-emu.topology.vcpus = 2");
        Path ok = file("top-ok.conf", "include \"base.conf\"", "vcpu-emu.run.duration = 1ms");
        assertEquals(2, load(ok).topology().vcpus());
    }

    @Test
    void badEnumValue() throws Exception {
        Path f = file("bad.conf", "vcpu-emu {", "  host.era = modern", "}");
        assertEquals(f + ":2: vcpu-emu.host.era: must be legacy-early, legacy-df-guard, legacy, legacy-fixed, interrupt, error-code or ve, got modern", problem(f));
        Path g = file("typo.conf", "vcpu-emu.host.swap-in-latency.distribution = exponental");
        assertEquals(g + ":1: vcpu-emu.host.swap-in-latency.distribution: must be fixed, uniform or exponential, "
                + "got exponental (did you mean exponential?)", problem(g));
    }

    @Test
    void outOfRangeProbability() throws Exception {
        Path f = file("bad.conf", "vcpu-emu {", "  workload {", "    hot-probability = 1.5", "  }", "}");
        assertEquals(f + ":3: vcpu-emu.workload.hot-probability: must be between 0 and 1, got 1.5", problem(f));
        Path g = file("sum.conf", "vcpu-emu.workload.irq-off-fraction = 0.8");
        assertEquals(g + ":1: vcpu-emu.workload.irq-off-fraction: must be at most 1 - "
                + "vcpu-emu.workload.preempt-off-fraction (0.3), got 0.8", problem(g));
        Path h = file("resident.conf", "vcpu-emu.host.memory.resident-limit = 0");
        assertEquals(h + ":1: vcpu-emu.host.memory.resident-limit: must be greater than 0 and at most 1, got 0",
                problem(h));
    }

    @Test
    void badSet() throws Exception {
        assertEquals("--set topology.vcpus=0: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 0",
                problem(null, "topology.vcpus=0"));
        assertEquals("--set topology.vcpu=8: vcpu-emu.topology.vcpu: unknown key (did you mean vcpu-emu.topology.vcpus?)",
                problem(null, "topology.vcpu=8"));
        assertEquals("--set vcpu-emu.host.era=new: vcpu-emu.host.era: must be legacy-early, legacy-df-guard, legacy, legacy-fixed, interrupt, error-code or ve, got new (did you mean ve?)",
                problem(null, "vcpu-emu.host.era=new"));
        assertEquals("--set topology.vcpus: expected key=value", problem(null, "topology.vcpus"));
        assertEquals("--set topology.vcpus=1, run.seed=2: vcpu-emu.topology.vcpus: the value must be a single "
                + "HOCON value (quote it if it holds ',', '#' or '//')", problem(null, "topology.vcpus=1, run.seed=2"));
        // a --set is checked even when a file is given, and located at the --set, not the file
        Path f = file("ok.conf", "vcpu-emu.topology.vcpus = 8");
        assertEquals("--set guest.timeslice=0ms: vcpu-emu.guest.timeslice: must be at least 1ns, got 0ms",
                problem(f, "guest.timeslice=0ms"));
    }

    @Test
    void hoconSyntaxError() throws Exception {
        Path f = file("bad.conf",
                "vcpu-emu {",
                "  topology {",
                "    vcpus = 4",
                "  }",
                "  run.seed = }",
                "}");
        assertEquals(f + ":5: Expecting a value but got wrong token: '}' (if you intended '}' to be part of a key or "
                + "string value, try enclosing the key or value in double quotes, or you may be able to rename the "
                + "file .properties rather than .conf)", problem(f));
        assertEquals("--set nmi.sources=[1,: List should have had new element after a comma, instead had token: end of "
                + "file (if you want the comma or end of file to be part of a string value, then double-quote it)",
                problem(null, "nmi.sources=[1,"));
    }

    @Test
    void unresolvedSubstitution() throws Exception {
        Path f = file("subst.conf", "vcpu-emu {", "  guest.timeslice = ${vcpu-emu.guest.tick-perod}", "}");
        assertEquals(f + ":2: Could not resolve substitution to a value: ${vcpu-emu.guest.tick-perod}", problem(f));
        Path g = file("subst-ok.conf", "vcpu-emu.guest.timeslice = ${vcpu-emu.guest.tick-period}");
        assertEquals(1_000_000, load(g).guest().timesliceNanos());
    }

    // ------------------------------------------------------------------ every problem, typed options, no root

    @Test
    void problemsListsUnknownKeysThenEachBadValueWithTheEarlierOnesAtTheirDefaults() throws Exception {
        Path f = file("bad.conf", "vcpu-emu {", "  topology.vcpus = 0", "  engine.op-cost = 50us", "  host.era = modern",
                "  run.duration = 10 parsecs", "  topology.vcpuz = 2", "}");
        List<String> all = loader.problems(Optional.of(f), List.of("workload.hot-probability=2", "nosuch.key=1"), 100)
                .stream().map(ConfigProblem::getMessage).toList();
        assertEquals(List.of(
                f + ":6: vcpu-emu.topology.vcpuz: unknown key (did you mean vcpu-emu.topology.vcpus?)",
                "--set nosuch.key=1: vcpu-emu.nosuch: unknown key",
                f + ":2: vcpu-emu.topology.vcpus: must be between 1 and 4095, got 0",
                f + ":5: vcpu-emu.run.duration: expected a duration with a unit (ns, us, ms, s, m, h, d; e.g. 20us) "
                        + "but got a string (\"10 parsecs\")",
                f + ":3: vcpu-emu.engine.op-cost: must not exceed vcpu-emu.engine.quantum (20us), got 50us",
                f + ":4: vcpu-emu.host.era: must be legacy-early, legacy-df-guard, legacy, legacy-fixed, interrupt, "
                        + "error-code or ve, got modern",
                "--set workload.hot-probability=2: vcpu-emu.workload.hot-probability: must be between 0 and 1, got 2"),
                all);
        assertEquals(all.get(0), problem(f), "load throws the first");
        assertEquals(all.subList(0, 2), loader.problems(Optional.of(f), List.of("workload.hot-probability=2",
                "nosuch.key=1"), 2).stream().map(ConfigProblem::getMessage).toList(), "up to the limit");
        assertEquals(List.of(), loader.problems(Optional.of(confDir().resolve("default.conf")), List.of(), 100));
    }

    @Test
    void aSetMadeFromAnOptionNamesTheOptionAsTyped() {
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> loader.load(Optional.empty(),
                List.of("run.duration=abc"), Map.of("run.duration=abc", "--duration abc")));
        assertTrue(p.getMessage().startsWith("--duration abc: vcpu-emu.run.duration: expected a duration"), p.getMessage());
        assertTrue(problem(null, "run.duration=abc").startsWith("--set run.duration=abc: "), "a --set is still a --set");
    }

    @Test
    void aTopologyFileWithoutAVcpuEmuBlockIsBadInput() throws Exception {
        Path empty = file("empty.conf", "# comments only", "");
        assertEquals(empty + ": empty topology file: expected a vcpu-emu { } block", problem(empty));
        Path pekko = file("pekko.conf", "", "pekko.loglevel = INFO");
        assertEquals(pekko + ":2: no vcpu-emu { } block: a topology sets its keys under vcpu-emu { }", problem(pekko));
        assertEquals(4, load(file("braces.conf", "vcpu-emu { }")).topology().vcpus(), "an empty block: the defaults");
    }
}
