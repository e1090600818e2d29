package dev.vcpuemu.bench;

import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.vcpu.Vcpu;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the number of vCPUs costs the model by itself, without actors or a collector at work:
 * {@code vcpus} vCPUs of the pure model visited in turn on one thread, {@code stepsPerVisit}
 * boundaries per visit, as the concurrent engine's dispatcher visits vCPU actors (one visit is
 * one mailbox run: up to {@code engine.mailbox-throughput} step messages of
 * {@code micro-ops-per-step} each). Sixteen vCPUs' state stays in the CPU caches; a hundred
 * thousand (about 1 GiB) does not, so each visit first waits for its vCPU's state to come in
 * from memory, and the fewer boundaries a visit takes, the more that wait weighs.
 *
 * <p>The primary figure is visits per second; {@code boundaries} is the same run's boundaries
 * per second. Every frame is resident (no faults: the workload's user code, system calls, timer
 * ticks and exits), in guests of 4,000 vCPUs as in {@code bench}'s 100,000 (other sizes: up to
 * 4,000 or a multiple of it). The fork runs with {@code -Xmx4g}: 100,000 vCPUs take about 1.2 GiB.
 *
 * <p>Every vCPU first runs {@link #SETTLE_NANOS} of simulated time in the set-up: the first
 * thousand boundaries or so are the guest's boot (the wake-up routine), which at 100,000 vCPUs
 * costs a third of what its user loop costs per boundary; measured from the start, a trial at
 * 100,000 would see mostly the boot, while one at 16 is past it within its first millisecond.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ManyVcpusBenchmark {
    private static final int PER_GUEST = 4_000;
    /** Simulated time each vCPU runs before the measurement: past its boot, into its user loop. */
    static final long SETTLE_NANOS = 50_000;

    @Param({"16", "100000"})
    public int vcpus;

    @Param({"1", "5", "50"})
    public int stepsPerVisit;

    private Vcpu[] all;
    private int next;

    /** Boundaries taken, reported per second beside the visits. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Boundaries {
        public long boundaries;

        @Setup(Level.Iteration)
        public void clear() {
            boundaries = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        int perGuest = Math.min(vcpus, PER_GUEST);
        if (vcpus % perGuest != 0) {
            throw new IllegalArgumentException("vcpus must be at most 4,000 or a multiple of it, got " + vcpus);
        }
        Settings s = SoloVcpu.defaultWorkload().tasks(4).vcpus(perGuest).guests(vcpus / perGuest).build();
        all = new Vcpu[vcpus];
        for (int g = 0; g * perGuest < vcpus; g++) {
            AtomicHostMemory memory = new AtomicHostMemory(perGuest * Vcpu.framesPerVcpu(s));
            SleeperTable sleepers = new SleeperTable();
            for (int i = 0; i < perGuest; i++) {
                SoloVcpu solo = new SoloVcpu(s, i, memory, sleepers, 1_000L * g + i).allResident();
                all[g * perGuest + i] = solo.vcpu;
            }
        }
        for (Vcpu v : all) {
            v.run(SETTLE_NANOS, Integer.MAX_VALUE);
        }
        // The state is long-lived in a simulation: start from the heap layout a collection leaves.
        System.gc();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Vcpu v : all) {
            if (v.dead()) {
                throw new IllegalStateException("a guest died: " + v.deathReason());
            }
        }
    }

    @Benchmark
    public int visit(Boundaries counted) {
        Vcpu v = all[next];
        next = next + 1 == all.length ? 0 : next + 1;
        int taken = v.run(Long.MAX_VALUE, stepsPerVisit);
        counted.boundaries += taken;
        return taken;
    }
}
