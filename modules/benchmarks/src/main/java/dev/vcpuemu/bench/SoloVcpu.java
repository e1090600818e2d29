package dev.vcpuemu.bench;

import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.Layout;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.vcpu.Vcpu;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * One vCPU of the pure model without actors and without peers: the host memory (every frame
 * starts swapped out) and the sleeper table are its own or shared with other lone vCPUs, and
 * its {@link Vcpu.Outbox} keeps the work items it starts, each due one swap-in latency after
 * its fault, so that the benchmark can play the paging worker. Findings are kept;
 * {@link #check} fails a benchmark whose workload went wrong.
 */
final class SoloVcpu implements Vcpu.Outbox {
    final Settings settings;
    final AtomicHostMemory memory;
    final Vcpu vcpu;
    private final SplittableRandom latencies;
    private final int gfnBase;
    private final PriorityQueue<Job> work = new PriorityQueue<>(Comparator.comparingLong(Job::due));
    private final List<Finding> findings = new ArrayList<>();

    private record Job(long due, WorkItem item) {}

    /**
     * The default workload's shape, as the model benchmarks run it (interrupt eras): working sets
     * of 256 pages, 192 mapped, 64 kernel pages, 8 compute ops per access, 2 % system calls, a
     * 4 ms timeslice, an exit every 100 µs. The caller adds its tasks and anything else.
     */
    static TestSettings defaultWorkload() {
        return TestSettings.interrupt().kernelPages(64).workingSet(256).mappedPages(192).computeOps(8)
                .syscalls(0.02, 4, 0.3, 0.2).timeslice(4_000_000).exitInterval(100_000);
    }

    /** vCPU 0 with its own memory and sleeper table. */
    SoloVcpu(Settings settings, long seed) {
        this(settings, 0, new AtomicHostMemory(Vcpu.framesPerVcpu(settings)), new SleeperTable(), seed);
    }

    /** vCPU {@code id} on {@code memory} (with room for its frames) and {@code sleepers}. */
    SoloVcpu(Settings settings, int id, AtomicHostMemory memory, SleeperTable sleepers, long seed) {
        this.settings = settings;
        this.memory = memory;
        this.latencies = new SplittableRandom(seed + 1);
        this.gfnBase = id * Vcpu.framesPerVcpu(settings);
        this.vcpu = new Vcpu(id, settings, new SplittableRandom(seed), new SplittableRandom(~seed), memory, sleepers,
                this, 0);
    }

    @Override
    public void startWork(WorkItem item) {
        work.add(new Job(item.issuedAtNanos() + settings.host().swapIn().draw(latencies), item));
    }

    @Override
    public void remoteWake(int cpu, int task) {
        throw new IllegalStateException("a lone vCPU woke a task of vCPU " + cpu);
    }

    @Override
    public void finding(Finding finding) {
        findings.add(finding);
    }

    /** Makes every frame of this vCPU resident. */
    SoloVcpu allResident() {
        for (int g = gfnBase; g < gfnBase + Vcpu.framesPerVcpu(settings); g++) {
            memory.makeResident(g);
        }
        return this;
    }

    /** Frame of page {@code page} of task {@code task}'s working set. */
    int userGfn(int task, int page) {
        return vcpu.kernel().layout().userGfn(task, Layout.USER_BASE + page * Layout.PAGE);
    }

    /**
     * Plays the paging worker at the end of a quantum, as {@code PagingWorker} does at its tick:
     * every item due before {@code end} brings its frame in and is answered at its due time.
     */
    void completeDue(long end) {
        while (!work.isEmpty() && work.peek().due() < end) {
            Job job = work.poll();
            memory.makeResident(job.item().gfn());
            vcpu.onWorkDone(job.item(), job.due());
        }
    }

    /** The one item at the paging worker (the benchmark completes it itself). */
    WorkItem takeStarted() {
        if (work.size() != 1) {
            throw new IllegalStateException("expected one work item, have " + work.size());
        }
        return work.poll().item();
    }

    /** Plays the reclaimer: evicts random frames until at most {@code limit} are resident. */
    void reclaimTo(int limit, SplittableRandom rng) {
        while (memory.residentCount() > limit) {
            memory.evict(rng.nextInt(memory.frames()));
        }
    }

    /** One boundary at a time until {@code done} holds; returns the boundaries taken. */
    int stepUntil(String what, BooleanSupplier done) {
        int steps = 0;
        while (!done.getAsBoolean()) {
            if (steps == 1_000_000 || vcpu.dead()) {
                throw new IllegalStateException("never reached: " + what + " (routine " + vcpu.top().routine
                        + " pc " + vcpu.top().pc() + ", dead " + vcpu.dead() + ", findings " + findings + ")");
            }
            steps += vcpu.run(Long.MAX_VALUE, 1);
        }
        return steps;
    }

    /** Fails if the guest died or reported a finding: the benchmark did not measure what it says. */
    void check() {
        if (vcpu.dead() || !findings.isEmpty()) {
            throw new IllegalStateException("workload went wrong: dead " + vcpu.dead() + " (" + vcpu.deathReason()
                    + "), findings " + findings);
        }
    }
}
