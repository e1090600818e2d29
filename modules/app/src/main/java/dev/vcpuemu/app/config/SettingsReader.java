package dev.vcpuemu.app.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.AccessPattern;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.settings.Settings.Latency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads the {@code vcpu-emu} block of a resolved configuration into {@link Settings}, checking
 * every type and range. The first problem met is thrown, located at the value that causes it.
 */
final class SettingsReader {
    /** Paging workers per guest: KVM queues at most 64 async page faults per vCPU, and each worker is an actor. */
    static final int MAX_PAGING_WORKERS = 65_536;
    static final int MAX_VCPUS = Settings.Topology.MAX_VCPUS;
    /** Guests (VMs) on one host; each brings its own vCPUs, workers, reclaimer and NMI sources. */
    static final int MAX_GUESTS = 1024;
    /** Upper bound of virtual durations, far from overflowing virtual-time arithmetic. */
    static final long MAX_VIRTUAL_NANOS = Duration.ofDays(365).toNanos();
    /**
     * Longest quantum. Producers emit a whole quantum of inputs ahead and vCPUs drift up to a
     * quantum apart (DESIGN §3), so the quantum bounds the work of every round; at 1 ms it is
     * no coarser than the guest's default timer tick.
     */
    static final long MAX_QUANTUM_NANOS = Duration.ofMillis(1).toNanos();
    /**
     * Most evictions per virtual millisecond a reclaimer makes: 10 per virtual microsecond, about
     * 40 GB/s of 4 KiB pages per guest, beyond any host's reclaim rate. With the quantum at most
     * 1 ms, a reclaimer sends this many evictions per guest in one round on average, at most.
     */
    static final double MAX_EVICT_PER_MILLI = 10_000;
    /** Most threads of the concurrent dispatcher: a ForkJoinPool refuses more. */
    static final int MAX_PARALLELISM = 32_767;

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern SOURCE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");
    private static final Set<String> SOURCE_KEYS =
            Set.of("name", "targets", "interval", "jitter", "user-read-probability");
    private static final List<String> SOURCE_KEY_ORDER =
            List.of("name", "targets", "interval", "jitter", "user-read-probability");

    private final ConfigObject root;

    SettingsReader(ConfigObject root) {
        this.root = root;
    }

    Settings read() throws ConfigProblem {
        Scope top = new Scope(root, "").scope(KeyChecker.ROOT);
        Scope topologyScope = top.scope("topology");
        Settings.Topology topology = new Settings.Topology(
                (int) integer(topologyScope.get("guests"), topologyScope.path("guests"), 1, MAX_GUESTS),
                (int) integer(topologyScope.get("vcpus"), topologyScope.path("vcpus"), 1, MAX_VCPUS));
        Settings.Run run = run(top.scope("run"));
        Scope engineScope = top.scope("engine");
        Settings.Engine engine = engine(engineScope);
        OpCost opCost = new OpCost(engineScope, engine.opCostNanos());
        Settings.Host host = host(top.scope("host"), opCost);
        checkSwapInLookahead(engineScope, top.scope("host").scope("swap-in-latency"), engine, host.swapIn());
        Settings.Guest guest = guest(top.scope("guest"), topology.vcpus(), opCost);
        Settings.Workload workload = workload(top.scope("workload"));
        checkMemorySize(top, topology, guest, workload);
        Settings.Nmi nmi = nmi(top.scope("nmi"), topology.vcpus(), opCost);
        Settings.Expect expect = expect(top.scope("expect"));
        return new Settings(run, engine, topology, host, guest, workload, nmi, expect);
    }

    // ------------------------------------------------------------------ blocks

    private static Settings.Run run(Scope s) throws ConfigProblem {
        Duration duration = wallDuration(s, "duration");
        long seed = integer(s.get("seed"), s.path("seed"), Long.MIN_VALUE, Long.MAX_VALUE);
        Duration progress = wallDuration(s, "progress-interval");
        String report = string(s.get("report"), s.path("report"));
        if (report.isBlank() && !report.isEmpty()) {
            throw problem(s.get("report"), s.path("report"), "must be a path, or \"\" for no report");
        }
        return new Settings.Run(duration, seed, progress, report);
    }

    private static Settings.Engine engine(Scope s) throws ConfigProblem {
        long quantum = virtualNanos(s, "quantum");
        if (quantum > MAX_QUANTUM_NANOS) {
            throw problem(s.get("quantum"), s.path("quantum"), "must be at most 1ms, got " + text(s.get("quantum")));
        }
        long opCost = virtualNanos(s, "op-cost");
        if (opCost > quantum) {
            String blamed = blame(s, "quantum", "op-cost");
            throw problem(s.get(blamed), s.path(blamed), blamed.equals("op-cost")
                    ? "must not exceed " + s.path("quantum") + " (" + text(s.get("quantum")) + "), got " + text(s.get("op-cost"))
                    : "must be at least " + s.path("op-cost") + " (" + text(s.get("op-cost")) + "), got " + text(s.get("quantum")));
        }
        int microOps = intAtLeast(s, "micro-ops-per-step", 1);
        int throughput = intAtLeast(s, "mailbox-throughput", 1);
        int parallelism = (int) integer(s.get("parallelism"), s.path("parallelism"), 0, MAX_PARALLELISM);
        return new Settings.Engine(quantum, opCost, microOps, throughput, parallelism);
    }

    private static Settings.Host host(Scope s, OpCost opCost) throws ConfigProblem {
        HostEra era = enumeration(s.get("era"), s.path("era"), HostEra.class);
        long exit = opCost.period(s, "exit-interval", virtualNanos(s, "exit-interval"));
        int workers = (int) integer(s.get("paging-workers"), s.path("paging-workers"), 1, MAX_PAGING_WORKERS);
        Latency latency = latency(s.scope("swap-in-latency"));
        Scope m = s.scope("memory");
        double resident = fraction(m.get("resident-limit"), m.path("resident-limit"), true);
        double evict = number(m.get("evict-rate"), m.path("evict-rate"));
        // Written so that NaN fails too; 1e400 reads as infinity and fails as too large.
        if (!(evict >= 0 && evict <= MAX_EVICT_PER_MILLI)) {
            throw problem(m.get("evict-rate"), m.path("evict-rate"), "must be between 0 and 10000 (frames per virtual"
                    + " millisecond), got " + text(m.get("evict-rate")));
        }
        Scope b = s.scope("bugs");
        Settings.HostBugs bugs = new Settings.HostBugs(bool(b.get("ignore-interrupt-flag"), b.path("ignore-interrupt-flag")),
                bool(b.get("skip-slot-check"), b.path("skip-slot-check")),
                bool(b.get("inject-at-cpl0"), b.path("inject-at-cpl0")),
                bool(b.get("page-ready-to-other-vcpu"), b.path("page-ready-to-other-vcpu")));
        Scope f = s.scope("fixes");
        Settings.HostFixes fixes = new Settings.HostFixes(bool(f.get("lapic-enabled-check"), f.path("lapic-enabled-check")),
                bool(f.get("nonzero-token"), f.path("nonzero-token")),
                bool(f.get("no-apf-while-paging-off"), f.path("no-apf-while-paging-off")),
                bool(f.get("keep-queue-on-paging-change"), f.path("keep-queue-on-paging-change")));
        int tokenIdStart = (int) integer(s.get("token-id-start"), s.path("token-id-start"), 0, (1 << 20) - 1,
                "must be an integer from 0 to 1048575 (ids are 20 bits, §2.7)");
        long migrateAt = offOrVirtualNanos(s, "migrate-at");
        return new Settings.Host(era, exit, workers, latency, resident, evict, bugs, fixes, tokenIdStart, migrateAt);
    }

    /**
     * The lookahead of completions (DESIGN §3): a vCPU runs its whole quantum before it hears the
     * paging worker's answer, so a swap-in shorter than the quantum would complete inside the
     * quantum that issued it, after the vCPU had passed its due time. Blames the key the file set.
     */
    private static void checkSwapInLookahead(Scope engine, Scope latency, Settings.Engine e, Latency l)
            throws ConfigProblem {
        String shortest = l.distribution() == Latency.Distribution.FIXED ? "mean" : "min";
        long shortestNanos = l.distribution() == Latency.Distribution.FIXED ? l.meanNanos() : l.minNanos();
        if (shortestNanos >= e.quantumNanos()) {
            return;
        }
        if (Origins.isDefault(latency.get(shortest)) && !Origins.isDefault(engine.get("quantum"))) {
            throw problem(engine.get("quantum"), engine.path("quantum"), "must be at most " + latency.path(shortest) + " ("
                    + text(latency.get(shortest)) + "), the shortest swap-in, so that a completion falls due after the"
                    + " quantum that issued it; got " + text(engine.get("quantum")));
        }
        throw problem(latency.get(shortest), latency.path(shortest), "must be at least " + engine.path("quantum") + " ("
                + text(engine.get("quantum")) + ") so that a completion falls due after the quantum that issued it;"
                + " lower the quantum for faster swap-ins; got " + text(latency.get(shortest)));
    }

    private static Latency latency(Scope s) throws ConfigProblem {
        Latency.Distribution d = enumeration(s.get("distribution"), s.path("distribution"), Latency.Distribution.class);
        long mean = virtualNanos(s, "mean");
        long min = virtualNanos(s, "min");
        long max = virtualNanos(s, "max");
        if (d != Latency.Distribution.FIXED && min > max) {
            String blamed = blame(s, "min", "max");
            throw problem(s.get(blamed), s.path(blamed), blamed.equals("max")
                    ? "must be at least " + s.path("min") + " (" + text(s.get("min")) + "), got " + text(s.get("max"))
                    : "must be at most " + s.path("max") + " (" + text(s.get("max")) + "), got " + text(s.get("min")));
        }
        if (d == Latency.Distribution.EXPONENTIAL && (mean < min || mean > max)) {
            throw problem(s.get("mean"), s.path("mean"), "must be between " + s.path("min") + " (" + text(s.get("min"))
                    + ") and " + s.path("max") + " (" + text(s.get("max")) + ") for an exponential distribution, got "
                    + text(s.get("mean")));
        }
        return new Latency(d, mean, min, max);
    }

    private static Settings.Guest guest(Scope s, int vcpus, OpCost opCost) throws ConfigProblem {
        GuestEra era = enumeration(s.get("era"), s.path("era"), GuestEra.class);
        boolean asyncPf = bool(s.get("async-pf"), s.path("async-pf"));
        boolean preempt = bool(s.get("preempt"), s.path("preempt"));
        int tasks = intAtLeast(s, "tasks-per-vcpu", 1);
        int kernelPages = intAtLeast(s, "kernel-pages", 1);
        long tick = opCost.period(s, "tick-period", virtualNanos(s, "tick-period"));
        long slice = virtualNanos(s, "timeslice");
        long hung = virtualNanos(s, "hung-task-timeout");
        long wedge = virtualNanos(s, "wedge-timeout");
        int mmFaultOps = intAtLeast(s, "mm-fault-ops", 1);
        Scope b = s.scope("bugs");
        Settings.GuestBugs bugs = new Settings.GuestBugs(bool(b.get("ack-before-clear"), b.path("ack-before-clear")));
        double entryFault = fraction(s.get("entry-fault-probability"), s.path("entry-fault-probability"), false);
        long lapicDelay = offOrVirtualNanos(s, "lapic-enable-delay");
        Scope smi = s.scope("smi");
        long smiInterval = offOrVirtualNanos(smi, "interval");
        if (smiInterval >= 0) {
            opCost.period(smi, "interval", smiInterval);
        }
        Settings.Smi smis = new Settings.Smi(smiInterval, intAtLeast(smi, "handler-ops", 1));
        return new Settings.Guest(era, asyncPf, preempt, tasks, kernelPages, tick, slice, hung, wedge, mmFaultOps,
                apfDisable(s.scope("apf-disable"), vcpus), bugs, entryFault, lapicDelay, smis, nested(s, tasks),
                code(s.scope("code")));
    }

    /** {@code guest.code}: micro-ops of each calibrated code path, at least one each. */
    private static Settings.Code code(Scope c) throws ConfigProblem {
        return new Settings.Code(intAtLeast(c, "pf-entry", 1), intAtLeast(c, "pf-between-reads", 1),
                intAtLeast(c, "pf-async-path", 1), intAtLeast(c, "nmi-entry", 1), intAtLeast(c, "nmi-sample", 1),
                intAtLeast(c, "nmi-callchain", 1), intAtLeast(c, "nmi-exit", 1), intAtLeast(c, "page-ready-entry", 1),
                intAtLeast(c, "wait-path", 1), intAtLeast(c, "wake-path", 1));
    }

    /** {@code guest.nested}: each L2 vCPU thread is one of the vCPU's tasks. */
    private static Settings.Nested nested(Scope guest, int tasks) throws ConfigProblem {
        Scope n = guest.scope("nested");
        int threads = intAtLeast(n, "l2-vcpu-threads", 0);
        if (threads > tasks) {
            throw problem(n.get("l2-vcpu-threads"), n.path("l2-vcpu-threads"), "must be at most "
                    + guest.path("tasks-per-vcpu") + " (" + tasks + "), as each L2 vCPU thread is one of the vCPU's"
                    + " tasks, got " + text(n.get("l2-vcpu-threads")));
        }
        return new Settings.Nested(threads, bool(n.get("delivery-as-pf-vmexit"), n.path("delivery-as-pf-vmexit")));
    }

    private static Settings.ApfDisable apfDisable(Scope s, int vcpus) throws ConfigProblem {
        long at = offOrVirtualNanos(s, "at");
        List<Integer> ids = vcpuIds(s, "vcpus", vcpus, "duplicate vCPU id ");
        boolean wakeAll = bool(s.get("wake-all"), s.path("wake-all"));
        long reenable = offOrVirtualNanos(s, "reenable-after");
        return new Settings.ApfDisable(at, ids, wakeAll, reenable);
    }

    /** A list of distinct vCPU ids in [0, vcpus). */
    private static List<Integer> vcpuIds(Scope s, String key, int vcpus, String duplicate) throws ConfigProblem {
        List<Integer> ids = new ArrayList<>();
        List<ConfigValue> list = list(s.get(key), s.path(key));
        for (int j = 0; j < list.size(); j++) {
            String p = s.path(key) + "[" + j + "]";
            int id = (int) integer(list.get(j), p, 0, vcpus - 1,
                    "must be a vCPU id between 0 and " + (vcpus - 1) + " (vcpus is " + vcpus + ")");
            if (ids.contains(id)) {
                throw problem(list.get(j), p, duplicate + id);
            }
            ids.add(id);
        }
        return List.copyOf(ids);
    }

    /** {@code off} (-1) or a virtual duration. */
    private static long offOrVirtualNanos(Scope s, String key) throws ConfigProblem {
        ConfigValue v = s.get(key);
        if ((v.valueType() == ConfigValueType.BOOLEAN && !(Boolean) v.unwrapped())
                || (v.valueType() == ConfigValueType.STRING && ((String) v.unwrapped()).strip().equalsIgnoreCase("off"))) {
            return -1;
        }
        return virtualNanos(v, s.path(key));
    }

    private static Settings.Workload workload(Scope s) throws ConfigProblem {
        int workingSet = intAtLeast(s, "working-set-pages", 1);
        int mapped = intAtLeast(s, "mapped-pages", 1);
        if (mapped > workingSet) {
            String blamed = blame(s, "working-set-pages", "mapped-pages");
            throw problem(s.get(blamed), s.path(blamed), blamed.equals("mapped-pages")
                    ? "must be between 1 and " + s.path("working-set-pages") + " (" + workingSet + "), got " + text(s.get("mapped-pages"))
                    : "must be at least " + s.path("mapped-pages") + " (" + mapped + "), got " + text(s.get("working-set-pages")));
        }
        AccessPattern pattern = enumeration(s.get("pattern"), s.path("pattern"), AccessPattern.class);
        double hotFraction = fraction(s.get("hot-fraction"), s.path("hot-fraction"), false);
        double hotProbability = fraction(s.get("hot-probability"), s.path("hot-probability"), false);
        int computeOps = intAtLeast(s, "compute-ops", 0);
        double syscallProbability = fraction(s.get("syscall-probability"), s.path("syscall-probability"), false);
        int syscallAccesses = intAtLeast(s, "syscall-accesses", 1);
        double preemptOff = fraction(s.get("preempt-off-fraction"), s.path("preempt-off-fraction"), false);
        double irqOff = fraction(s.get("irq-off-fraction"), s.path("irq-off-fraction"), false);
        if (preemptOff + irqOff > 1 + 1e-9) {
            String blamed = blame(s, "preempt-off-fraction", "irq-off-fraction");
            String other = blamed.equals("irq-off-fraction") ? "preempt-off-fraction" : "irq-off-fraction";
            throw problem(s.get(blamed), s.path(blamed), "must be at most 1 - " + s.path(other) + " ("
                    + text(s.get(other)) + "), got " + text(s.get(blamed)));
        }
        return new Settings.Workload(workingSet, mapped, pattern, hotFraction, hotProbability, computeOps,
                syscallProbability, syscallAccesses, preemptOff, irqOff);
    }

    /**
     * Guest frame numbers are ints: per guest, vcpus x (tasks-per-vcpu + 1 kernel stacks +
     * kernel-pages + tasks-per-vcpu x working-set-pages) must fit.
     */
    private static void checkMemorySize(Scope top, Settings.Topology t, Settings.Guest g, Settings.Workload w)
            throws ConfigProblem {
        long frames = (long) t.vcpus() * (g.tasksPerVcpu() + 1L + g.kernelPages() + (long) g.tasksPerVcpu() * w.workingSetPages());
        if (frames > Integer.MAX_VALUE) {
            List<String[]> candidates = List.of(new String[] {"workload", "working-set-pages"},
                    new String[] {"guest", "tasks-per-vcpu"}, new String[] {"guest", "kernel-pages"},
                    new String[] {"topology", "vcpus"});
            String[] blamed = candidates.get(0);
            for (String[] c : candidates) {
                if (!Origins.isDefault(top.scope(c[0]).get(c[1]))) {
                    blamed = c;
                    break;
                }
            }
            Scope s = top.scope(blamed[0]);
            throw problem(s.get(blamed[1]), s.path(blamed[1]), "guest memory too large: vcpus x (kernel-pages + "
                    + "tasks-per-vcpu x working-set-pages) = " + frames + " frames, at most " + Integer.MAX_VALUE);
        }
    }

    private static Settings.Nmi nmi(Scope s, int vcpus, OpCost opCost) throws ConfigProblem {
        ConfigValue v = s.get("sources");
        String path = s.path("sources");
        List<ConfigValue> list = list(v, path);
        List<Settings.NmiSource> sources = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String at = path + "[" + i + "]";
            ConfigValue e = list.get(i);
            if (!(e instanceof ConfigObject)) {
                throw problem(e, at, "expected an object but got " + describeValue(e));
            }
            ConfigObject o = (ConfigObject) e;
            for (String key : o.keySet().stream().sorted().collect(Collectors.toList())) {
                if (!SOURCE_KEYS.contains(key)) {
                    String suggestion = SOURCE_KEY_ORDER.stream()
                            .min((a, b) -> Integer.compare(KeyChecker.distance(key, a), KeyChecker.distance(key, b)))
                            .filter(k -> KeyChecker.distance(key, k) <= Math.max(1, Math.min(3, key.length() / 3)))
                            .map(k -> " (did you mean " + at + "." + k + "?)")
                            .orElse(" (a source has only " + String.join(", ", SOURCE_KEY_ORDER) + ")");
                    throw problem(o.get(key), at + "." + ConfigUtil.joinPath(key), "unknown key" + suggestion);
                }
            }
            Scope src = new Scope(o, at);
            String name = string(src.required("name"), src.path("name"));
            if (!SOURCE_NAME.matcher(name).matches()) {
                throw problem(src.get("name"), src.path("name"), "must be letters, digits, '-' or '_', starting with "
                        + "a letter or digit, got " + ConfigUtil.quoteString(name));
            }
            if (!names.add(name)) {
                throw problem(src.get("name"), src.path("name"), "duplicate source name " + ConfigUtil.quoteString(name));
            }
            List<Integer> targets = src.has("targets") ? vcpuIds(src, "targets", vcpus, "duplicate target ") : List.of();
            long interval = opCost.period(src, "interval", virtualNanos(src.required("interval"), src.path("interval")));
            double jitter = src.has("jitter") ? fraction(src.get("jitter"), src.path("jitter"), false) : 0.0;
            double userRead = src.has("user-read-probability")
                    ? fraction(src.get("user-read-probability"), src.path("user-read-probability"), false) : 0.0;
            sources.add(new Settings.NmiSource(name, targets, interval, jitter, userRead));
        }
        return new Settings.Nmi(List.copyOf(sources));
    }

    private static Settings.Expect expect(Scope s) throws ConfigProblem {
        List<FindingKind> present = kinds(s, "present");
        List<FindingKind> absent = kinds(s, "absent");
        List<ConfigValue> absentValues = list(s.get("absent"), s.path("absent"));
        for (int i = 0; i < absent.size(); i++) {
            if (present.contains(absent.get(i))) {
                throw problem(absentValues.get(i), s.path("absent") + "[" + i + "]",
                        absent.get(i) + " is also in " + s.path("present"));
            }
        }
        ConfigValue dv = s.get("detail-contains");
        String dpath = s.path("detail-contains");
        if (!(dv instanceof ConfigObject)) {
            throw problem(dv, dpath, "expected an object but got " + describeValue(dv));
        }
        ConfigObject d = (ConfigObject) dv;
        Map<FindingKind, String> detail = new EnumMap<>(FindingKind.class);
        for (String key : d.keySet().stream().sorted().collect(Collectors.toList())) {
            String kp = dpath + "." + ConfigUtil.joinPath(key);
            ConfigValue value = d.get(key);
            FindingKind kind = kind(key).orElseThrow(() -> problem(value, kp, "unknown finding kind" + kindHint(key)));
            if (absent.contains(kind)) {
                throw problem(value, kp, kind + " is also in " + s.path("absent"));
            }
            if (detail.containsKey(kind)) {
                throw problem(value, kp, "duplicate finding kind " + kind);
            }
            String text = string(value, kp);
            if (text.isEmpty()) {
                throw problem(value, kp, "must not be empty");
            }
            detail.put(kind, text);
        }
        boolean conservation = bool(s.get("conservation"), s.path("conservation"));
        return new Settings.Expect(present, absent, Collections.unmodifiableMap(detail), conservation);
    }

    private static List<FindingKind> kinds(Scope s, String key) throws ConfigProblem {
        List<ConfigValue> values = list(s.get(key), s.path(key));
        List<FindingKind> out = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            String p = s.path(key) + "[" + i + "]";
            String name = string(values.get(i), p);
            FindingKind kind = kind(name).orElse(null);
            if (kind == null) {
                throw problem(values.get(i), p, "unknown finding kind " + ConfigUtil.quoteString(name) + kindHint(name));
            }
            if (out.contains(kind)) {
                throw problem(values.get(i), p, "duplicate finding kind " + kind);
            }
            out.add(kind);
        }
        return List.copyOf(out);
    }

    /** A finding kind by its name (LOST_WAKEUP) or its lower-case dashed spelling (lost-wakeup). */
    static java.util.Optional<FindingKind> kind(String name) {
        return FindingKinds.of(name);
    }

    private static String kindHint(String name) {
        return FindingKinds.hint(name);
    }

    // ------------------------------------------------------------------ values

    /** Of two keys in one block that conflict, the one a user set (the second if both or neither). */
    private static String blame(Scope s, String first, String second) {
        return Origins.isDefault(s.get(second)) && !Origins.isDefault(s.get(first)) ? first : second;
    }

    private static int intAtLeast(Scope s, String key, int min) throws ConfigProblem {
        return (int) integer(s.get(key), s.path(key), min, Integer.MAX_VALUE);
    }

    private static long integer(ConfigValue v, String path, long min, long max) throws ConfigProblem {
        String range = min == Long.MIN_VALUE && max == Long.MAX_VALUE ? "must be a 64-bit integer"
                : max == Integer.MAX_VALUE || max == Long.MAX_VALUE ? "must be at least " + min
                : "must be between " + min + " and " + max;
        return integer(v, path, min, max, range);
    }

    private static long integer(ConfigValue v, String path, long min, long max, String range) throws ConfigProblem {
        Number n = numeric(v, path);
        long value;
        if (n instanceof Integer || n instanceof Long) {
            value = n.longValue();
        } else {
            double d = n.doubleValue();
            if (d != Math.rint(d)) {
                throw problem(v, path, "expected a whole number but got " + describeValue(v));
            }
            if (d < -0x1p63 || d >= 0x1p63) {
                throw problem(v, path, range + ", got " + text(v));
            }
            value = (long) d;
        }
        if (value < min || value > max) {
            String msg = value > max && max == Integer.MAX_VALUE && min != Long.MIN_VALUE
                    ? "must be at most " + max : range;
            throw problem(v, path, msg + ", got " + text(v));
        }
        return value;
    }

    private static double number(ConfigValue v, String path) throws ConfigProblem {
        return numeric(v, path).doubleValue();
    }

    /** A probability or fraction: [0, 1], or (0, 1] when {@code positive}. */
    private static double fraction(ConfigValue v, String path, boolean positive) throws ConfigProblem {
        double d = number(v, path);
        if (positive ? !(d > 0 && d <= 1) : !(d >= 0 && d <= 1)) {
            throw problem(v, path, (positive ? "must be greater than 0 and at most 1" : "must be between 0 and 1")
                    + ", got " + text(v));
        }
        return d;
    }

    /** A number, or a string that reads as one (as Typesafe Config itself converts). */
    private static Number numeric(ConfigValue v, String path) throws ConfigProblem {
        if (v.valueType() == ConfigValueType.NUMBER) {
            return (Number) v.unwrapped();
        }
        if (v.valueType() == ConfigValueType.STRING) {
            String s = ((String) v.unwrapped()).strip();
            if (NUMBER.matcher(s).matches()) {
                try {
                    return Long.parseLong(s);
                } catch (NumberFormatException e) {
                    return Double.parseDouble(s);
                }
            }
        }
        throw problem(v, path, "expected a number but got " + describeValue(v));
    }

    private static boolean bool(ConfigValue v, String path) throws ConfigProblem {
        if (v.valueType() == ConfigValueType.BOOLEAN) {
            return (Boolean) v.unwrapped();
        }
        if (v.valueType() == ConfigValueType.STRING) {
            switch (((String) v.unwrapped()).strip().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on":
                    return true;
                case "false", "no", "off":
                    return false;
                default:
                    break;
            }
        }
        throw problem(v, path, "expected a boolean (true/false, on/off, yes/no) but got " + describeValue(v));
    }

    /** Any scalar as text, as Typesafe Config's getString does. */
    private static String string(ConfigValue v, String path) throws ConfigProblem {
        switch (v.valueType()) {
            case STRING:
                return (String) v.unwrapped();
            case NUMBER:
            case BOOLEAN:
                return v.unwrapped().toString();
            default:
                throw problem(v, path, "expected a string but got " + describeValue(v));
        }
    }

    private static <E extends Enum<E>> E enumeration(ConfigValue v, String path, Class<E> type) throws ConfigProblem {
        E[] constants = type.getEnumConstants();
        List<String> names = Arrays.stream(constants).map(SettingsReader::hocon).collect(Collectors.toList());
        String allowed = names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
        if (v.valueType() == ConfigValueType.STRING) {
            String s = ((String) v.unwrapped()).strip().toLowerCase(Locale.ROOT).replace('_', '-');
            for (E c : constants) {
                if (hocon(c).equals(s)) {
                    return c;
                }
            }
            String hint = names.stream()
                    .filter(n -> KeyChecker.distance(s, n) <= 2)
                    .min((a, b) -> Integer.compare(KeyChecker.distance(s, a), KeyChecker.distance(s, b)))
                    .map(n -> " (did you mean " + n + "?)").orElse("");
            throw problem(v, path, "must be " + allowed + ", got " + text(v) + hint);
        }
        if (v.valueType() == ConfigValueType.NUMBER || v.valueType() == ConfigValueType.BOOLEAN) {
            throw problem(v, path, "must be " + allowed + ", got " + text(v));
        }
        throw problem(v, path, "expected a string (" + allowed + ") but got " + describeValue(v));
    }

    /** The HOCON spelling of an enum constant: HOT_COLD is hot-cold. */
    static String hocon(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static List<ConfigValue> list(ConfigValue v, String path) throws ConfigProblem {
        if (v instanceof ConfigList) {
            return (ConfigList) v;
        }
        throw problem(v, path, "expected a list but got " + describeValue(v));
    }

    /**
     * A wall-clock duration > 0, with a unit, at most 365d: the deterministic engines read it as
     * virtual time, and a run's end and its next progress sample are sums of virtual times.
     */
    private static Duration wallDuration(Scope s, String key) throws ConfigProblem {
        ConfigValue v = s.get(key);
        Duration d = duration(v, s.path(key));
        if (d.isZero() || d.isNegative()) {
            throw problem(v, s.path(key), "must be greater than 0, got " + text(v));
        }
        if (d.compareTo(Duration.ofNanos(MAX_VIRTUAL_NANOS)) > 0) {
            throw problem(v, s.path(key), "must be at most 365d, got " + text(v));
        }
        return d;
    }

    private static long virtualNanos(Scope s, String key) throws ConfigProblem {
        return virtualNanos(s.get(key), s.path(key));
    }

    /** A virtual duration in nanoseconds: at least 1ns, at most 365d. */
    private static long virtualNanos(ConfigValue v, String path) throws ConfigProblem {
        Duration d = duration(v, path);
        if (d.compareTo(Duration.ofNanos(1)) < 0) {
            throw problem(v, path, "must be at least 1ns, got " + text(v));
        }
        if (d.toNanos() > MAX_VIRTUAL_NANOS) {
            throw problem(v, path, "must be at most 365d, got " + text(v));
        }
        return d.toNanos();
    }

    /** A HOCON duration that carries its unit (a bare number would silently mean milliseconds). */
    private static Duration duration(ConfigValue v, String path) throws ConfigProblem {
        String expected = "expected a duration with a unit (ns, us, ms, s, m, h, d; e.g. 20us) but got ";
        if (v.valueType() != ConfigValueType.STRING) {
            throw problem(v, path, expected + describeValue(v));
        }
        String s = ((String) v.unwrapped()).strip();
        if (NUMBER.matcher(s).matches()) {
            throw problem(v, path, expected + describeValue(v));
        }
        try {
            return ConfigFactory.empty().withValue("d", v).getDuration("d");
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw problem(v, path, expected + describeValue(v));
        }
    }

    // ------------------------------------------------------------------ messages

    static ConfigProblem problem(ConfigValue v, String path, String detail) {
        return new ConfigProblem(Origins.describe(v), path, detail);
    }

    /** "a string ("four")", "a number (5)", "a list", "null". */
    static String describeValue(ConfigValue v) {
        switch (v.valueType()) {
            case STRING:
                return "a string (" + ConfigUtil.quoteString((String) v.unwrapped()) + ")";
            case NUMBER:
                return "a number (" + v.render() + ")";
            case BOOLEAN:
                return "a boolean (" + v.render() + ")";
            case LIST:
                return "a list";
            case OBJECT:
                return "an object";
            default:
                return "null";
        }
    }

    /** A value as the user wrote it, for "got ..." (strings quoted only when they are not plain). */
    static String text(ConfigValue v) {
        if (v.valueType() == ConfigValueType.STRING) {
            String s = (String) v.unwrapped();
            return s.matches("[A-Za-z0-9_.+-]+( ?[A-Za-z]+)?") ? s : ConfigUtil.quoteString(s);
        }
        return v.render();
    }

    /**
     * {@code engine.op-cost}, the shortest step of a vCPU: the lower bound of every period of
     * events it takes at micro-op boundaries (timer ticks, VM exits, SMIs, NMIs). It takes at
     * most one tick, exit or SMI per boundary, so a shorter period would fall further behind at
     * every boundary; and it holds at most two NMIs, so NMIs faster than one per micro-op would
     * mostly be lost while their source still emitted a whole quantum of them ahead.
     */
    private record OpCost(Scope engine, long nanos) {
        /** {@code period}, the value of {@code key}, if it is at least the op cost; else the problem, at the key the user set. */
        long period(Scope s, String key, long period) throws ConfigProblem {
            if (period >= nanos) {
                return period;
            }
            ConfigValue v = s.get(key);
            ConfigValue op = engine.get("op-cost");
            if (Origins.isDefault(v) && !Origins.isDefault(op)) {
                throw problem(op, engine.path("op-cost"), "must not exceed " + s.path(key) + " (" + text(v) + "), got "
                        + text(op));
            }
            throw problem(v, s.path(key), "must be at least " + engine.path("op-cost") + " (" + text(op) + "), got "
                    + text(v));
        }
    }

    /** A block of the configuration at a path, with its display path. */
    private static final class Scope {
        private final ConfigObject obj;
        private final String path;

        Scope(ConfigObject obj, String path) {
            this.obj = obj;
            this.path = path;
        }

        String path(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        boolean has(String key) {
            ConfigValue v = obj.get(key);
            return v != null && v.valueType() != ConfigValueType.NULL;
        }

        /** A key that reference.conf defines: absent is a broken build, null is bad input. */
        ConfigValue get(String key) {
            ConfigValue v = obj.get(key);
            if (v == null) {
                throw new IllegalStateException("no " + path(key) + " in the configuration: is reference.conf "
                        + "(in the engine jar) on the class path?");
            }
            return v;
        }

        /** A key that the user must give (inside a list element, where no default applies). */
        ConfigValue required(String key) throws ConfigProblem {
            ConfigValue v = obj.get(key);
            if (v == null) {
                throw new ConfigProblem(Origins.describe(obj), path(key), "missing required key");
            }
            return v;
        }

        Scope scope(String key) throws ConfigProblem {
            ConfigValue v = get(key);
            if (!(v instanceof ConfigObject)) {
                throw problem(v, path(key), "expected an object but got " + describeValue(v));
            }
            return new Scope((ConfigObject) v, path(key));
        }
    }
}
