package dev.vcpuemu.model;

import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.AccessPattern;
import dev.vcpuemu.model.settings.Settings.GuestEra;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.settings.Settings.Latency;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A small fluent builder of {@link Settings} for scripted model tests. Defaults: one vCPU, two
 * tasks, no system calls, no NMI sources, 10 ns per micro-op, a 1 ms tick and a fixed 100 µs
 * swap-in. Every value a test relies on should be set explicitly by that test.
 */
public final class TestSettings {
    private HostEra hostEra = HostEra.LEGACY;
    private GuestEra guestEra = GuestEra.LEGACY;
    private boolean asyncPf = true;
    private boolean preempt = true;
    private int vcpus = 1;
    private int tasksPerVcpu = 2;
    private int kernelPages = 4;
    private long opCostNanos = 10;
    private int mailboxThroughput = 5;
    private int parallelism;
    private long tickPeriodNanos = 1_000_000;
    private long timesliceNanos = 1_000_000;
    private long hungTaskTimeoutNanos = 10_000_000_000L;
    private long wedgeTimeoutNanos = 100_000_000;
    private int mmFaultOps = 3;
    private Settings.Code code = Settings.Code.MINIMAL;
    private long exitIntervalNanos = 50_000;
    private long swapInNanos = 100_000;
    private Latency swapInLatency;
    private int workingSetPages = 4;
    private int mappedPages = 4;
    private int computeOps = 2;
    private double syscallProbability;
    private int syscallAccesses = 1;
    private double preemptOffFraction;
    private double irqOffFraction;
    private long quantumNanos = 1_000_000;
    private int microOpsPerStep = 100;
    private int pagingWorkers = 1;
    private double residentLimit = 1.0;
    private double evictPerMilli;
    private Settings.HostBugs hostBugs = Settings.HostBugs.NONE;
    private Settings.GuestBugs guestBugs = Settings.GuestBugs.NONE;
    private Settings.HostFixes hostFixes = Settings.HostFixes.ALL;
    private int tokenIdStart = 1;
    private long migrateAtNanos = -1;
    private double entryFaultProbability;
    private long lapicEnableDelayNanos = -1;
    private Settings.Smi smi = Settings.Smi.NONE;
    private Settings.Nested nested = Settings.Nested.NONE;
    private List<Settings.NmiSource> nmiSources = List.of();
    private Duration duration = Duration.ofSeconds(1);
    private long seed = 1;
    private Settings.ApfDisable apfDisable = Settings.ApfDisable.NEVER;
    private int guests = 1;

    private TestSettings() {}

    /** Legacy host with legacy guest: protocol (a), reference §2.1. */
    public static TestSettings legacy() {
        return new TestSettings().eras(HostEra.LEGACY, GuestEra.LEGACY);
    }

    /** Interrupt host with interrupt guest: protocol (b), reference §2.2. */
    public static TestSettings interrupt() {
        return new TestSettings().eras(HostEra.INTERRUPT, GuestEra.INTERRUPT);
    }

    /** A host era with the guest built for it: a legacy guest (5.3–5.7) on a legacy host, else its own. */
    public static TestSettings matching(HostEra host) {
        GuestEra guest = switch (host) {
            case LEGACY_EARLY, LEGACY_DF_GUARD, LEGACY, LEGACY_FIXED -> GuestEra.LEGACY;
            case INTERRUPT -> GuestEra.INTERRUPT;
            case ERROR_CODE -> GuestEra.ERROR_CODE;
            case VE -> GuestEra.VE;
        };
        return new TestSettings().eras(host, guest);
    }

    public TestSettings eras(HostEra host, GuestEra guest) {
        this.hostEra = host;
        this.guestEra = guest;
        return this;
    }

    public TestSettings asyncPf(boolean v) {
        this.asyncPf = v;
        return this;
    }

    public TestSettings preempt(boolean v) {
        this.preempt = v;
        return this;
    }

    public TestSettings vcpus(int v) {
        this.vcpus = v;
        return this;
    }

    public TestSettings guests(int g) {
        this.guests = g;
        return this;
    }

    public TestSettings tasks(int v) {
        this.tasksPerVcpu = v;
        return this;
    }

    public TestSettings kernelPages(int v) {
        this.kernelPages = v;
        return this;
    }

    public TestSettings tick(long periodNanos) {
        this.tickPeriodNanos = periodNanos;
        return this;
    }

    public TestSettings timeslice(long nanos) {
        this.timesliceNanos = nanos;
        return this;
    }

    public TestSettings hungTaskTimeout(long nanos) {
        this.hungTaskTimeoutNanos = nanos;
        return this;
    }

    public TestSettings wedgeTimeout(long nanos) {
        this.wedgeTimeoutNanos = nanos;
        return this;
    }

    public TestSettings exitInterval(long nanos) {
        this.exitIntervalNanos = nanos;
        return this;
    }

    public TestSettings swapIn(long nanos) {
        this.swapInNanos = nanos;
        this.swapInLatency = null;
        return this;
    }

    /** A swap-in latency of any distribution. */
    public TestSettings swapIn(Latency latency) {
        this.swapInLatency = latency;
        return this;
    }

    public TestSettings workingSet(int pages) {
        this.workingSetPages = pages;
        return this;
    }

    public TestSettings mappedPages(int pages) {
        this.mappedPages = pages;
        return this;
    }

    public TestSettings computeOps(int ops) {
        this.computeOps = ops;
        return this;
    }

    /** System calls: probability per user iteration, accesses per call, and the kind mix. */
    public TestSettings syscalls(double probability, int accesses, double preemptOff, double irqOff) {
        this.syscallProbability = probability;
        this.syscallAccesses = accesses;
        this.preemptOffFraction = preemptOff;
        this.irqOffFraction = irqOff;
        return this;
    }

    /** Engine pacing for actor tests: quantum length and boundaries per step message. */
    public TestSettings engine(long quantumNanos, int microOpsPerStep) {
        this.quantumNanos = quantumNanos;
        this.microOpsPerStep = microOpsPerStep;
        return this;
    }

    /** The concurrent engine's threads (engine.parallelism); 0 (chosen from the topology) by default. */
    public TestSettings parallelism(int threads) {
        this.parallelism = threads;
        return this;
    }

    /** The lengths of the guest's code paths (guest.code); {@link Settings.Code#MINIMAL} by default. */
    public TestSettings code(Settings.Code code) {
        this.code = code;
        return this;
    }

    /** The actors' mailbox throughput (engine.mailbox-throughput). */
    public TestSettings mailboxThroughput(int messages) {
        this.mailboxThroughput = messages;
        return this;
    }

    /** Host memory pressure: paging workers, resident fraction, evictions per virtual ms. */
    public TestSettings hostMemory(int pagingWorkers, double residentLimit, double evictPerMilli) {
        this.pagingWorkers = pagingWorkers;
        this.residentLimit = residentLimit;
        this.evictPerMilli = evictPerMilli;
        return this;
    }

    /** A buggy guest kernel (reference.conf {@code guest.bugs}). */
    public TestSettings guestBugs(Settings.GuestBugs bugs) {
        this.guestBugs = bugs;
        return this;
    }

    /** A buggy host (reference.conf {@code host.bugs}). */
    public TestSettings hostBugs(Settings.HostBugs bugs) {
        this.hostBugs = bugs;
        return this;
    }

    /** The interrupt era's dated fixes (reference.conf {@code host.fixes}). */
    public TestSettings hostFixes(Settings.HostFixes fixes) {
        this.hostFixes = fixes;
        return this;
    }

    /** The first APF id of each vCPU ({@code host.token-id-start}). */
    public TestSettings tokenIdStart(int id) {
        this.tokenIdStart = id;
        return this;
    }

    /** Live migration at {@code atNanos} ({@code host.migrate-at}). */
    public TestSettings migrateAt(long atNanos) {
        this.migrateAtNanos = atNanos;
        return this;
    }

    /** {@code guest.entry-fault-probability}. */
    public TestSettings entryFaultProbability(double p) {
        this.entryFaultProbability = p;
        return this;
    }

    /** {@code guest.lapic-enable-delay} (-1: enabled from the start). */
    public TestSettings lapicEnableDelay(long nanos) {
        this.lapicEnableDelayNanos = nanos;
        return this;
    }

    /** {@code guest.nested}: the guest is KVM (L1) and its first {@code l2VcpuThreads} tasks run an L2 vCPU. */
    public TestSettings nested(int l2VcpuThreads, boolean deliveryAsPfVmexit) {
        this.nested = new Settings.Nested(l2VcpuThreads, deliveryAsPfVmexit);
        return this;
    }

    /** {@code guest.smi}. */
    public TestSettings smi(long intervalNanos, int handlerOps) {
        this.smi = new Settings.Smi(intervalNanos, handlerOps);
        return this;
    }

    public TestSettings nmiSources(List<Settings.NmiSource> sources) {
        this.nmiSources = List.copyOf(sources);
        return this;
    }

    /** Wall-clock duration of a concurrent run. */
    public TestSettings duration(Duration d) {
        this.duration = d;
        return this;
    }

    /** guest.apf-disable on every vCPU: disable at {@code atNanos} (-1 never), re-enable after (-1 never). */
    public TestSettings apfDisable(long atNanos, boolean wakeAll, long reenableAfterNanos) {
        return apfDisable(atNanos, List.of(), wakeAll, reenableAfterNanos);
    }

    /** guest.apf-disable on the listed vCPUs only (empty: every vCPU). */
    public TestSettings apfDisable(long atNanos, List<Integer> vcpus, boolean wakeAll, long reenableAfterNanos) {
        this.apfDisable = new Settings.ApfDisable(atNanos, vcpus, wakeAll, reenableAfterNanos);
        return this;
    }

    public TestSettings seed(long seed) {
        this.seed = seed;
        return this;
    }

    public Settings build() {
        return new Settings(
                new Settings.Run(duration, seed, Duration.ofMillis(200), ""),
                new Settings.Engine(quantumNanos, opCostNanos, microOpsPerStep, mailboxThroughput, parallelism),
                new Settings.Topology(guests, vcpus),
                new Settings.Host(hostEra, exitIntervalNanos, pagingWorkers,
                        swapInLatency != null ? swapInLatency
                                : new Latency(Latency.Distribution.FIXED, swapInNanos, swapInNanos, swapInNanos),
                        residentLimit, evictPerMilli, hostBugs, hostFixes, tokenIdStart, migrateAtNanos),
                new Settings.Guest(guestEra, asyncPf, preempt, tasksPerVcpu, kernelPages, tickPeriodNanos,
                        timesliceNanos, hungTaskTimeoutNanos, wedgeTimeoutNanos, mmFaultOps, apfDisable, guestBugs,
                        entryFaultProbability, lapicEnableDelayNanos, smi, nested, code),
                new Settings.Workload(workingSetPages, mappedPages, AccessPattern.UNIFORM, 0.2, 0.8, computeOps,
                        syscallProbability, syscallAccesses, preemptOffFraction, irqOffFraction),
                new Settings.Nmi(nmiSources),
                new Settings.Expect(List.of(), List.of(), Map.of(), false));
    }
}
