package dev.vcpuemu.bench;

import dev.vcpuemu.model.settings.Settings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The interpreter's speed: boundaries (guest micro-ops and delivered events) per second of
 * one {@code Vcpu} of the pure model on one thread, which bounds how much guest a vCPU actor
 * can simulate per core (target: 20 M/s).
 *
 * <p>The vCPU runs the default workload's shape (3 tasks of 256 pages, 192 mapped, 8 compute
 * ops per access, 2 % system calls; interrupt eras), built with the tests' {@code TestSettings}.
 * It runs in quanta of 20 µs of virtual time as under the time-keeper; at the end of each the
 * benchmark plays the paging worker (work items are answered one swap-in latency, 200 µs,
 * after their fault) and, with {@code memory = OVERCOMMIT}, the reclaimer, evicting random
 * frames down to 60 % resident (the default {@code resident-limit}; accesses are uniform over
 * the working set, so this is heavier than the default hot-cold pattern), so that async
 * faults, sleeps, synthetic halts and page-ready interrupts join the mix. With
 * {@code memory = RESIDENT} every frame stays resident: user code, genuine guest faults,
 * system calls, timer ticks and exits.
 *
 * <p>An operation is one boundary. {@link #batch} asks for up to 1024 boundaries per
 * {@code run} call, as a vCPU actor's step does with {@code micro-ops-per-step = 1024};
 * {@link #singleSteps} for one per call ({@code micro-ops-per-step = 1}). Either way an
 * invocation takes exactly 1024, fewer per call where a quantum ends.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MicroOpBenchmark {
    static final int BATCH = 1024;
    private static final long QUANTUM = 20_000;
    private static final double RESIDENT_LIMIT = 0.6;

    public enum Memory { RESIDENT, OVERCOMMIT }

    @Param
    public Memory memory;

    private SoloVcpu solo;
    private SplittableRandom reclaimer;
    private int residentLimit;
    private long quantumEnd;

    @Setup(Level.Trial)
    public void setUp() {
        Settings s = SoloVcpu.defaultWorkload().tasks(3).swapIn(200_000).build();
        solo = new SoloVcpu(s, 42).allResident();
        reclaimer = new SplittableRandom(7);
        residentLimit = memory == Memory.OVERCOMMIT ? (int) (solo.memory.frames() * RESIDENT_LIMIT)
                : solo.memory.frames();
        quantumEnd = QUANTUM;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        solo.check();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long batch() {
        return run(BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long singleSteps() {
        return run(1);
    }

    /** Takes {@link #BATCH} boundaries, at most {@code perCall} per {@code run} call, quantum by quantum. */
    private long run(int perCall) {
        int left = BATCH;
        while (left > 0) {
            left -= solo.vcpu.run(quantumEnd, Math.min(perCall, left));
            if (solo.vcpu.nowNanos() >= quantumEnd) {
                endQuantum();
            } else if (solo.vcpu.dead()) {
                throw new IllegalStateException("the guest died: " + solo.vcpu.deathReason());
            }
        }
        return solo.vcpu.nowNanos();
    }

    private void endQuantum() {
        solo.completeDue(quantumEnd);
        solo.reclaimTo(residentLimit, reclaimer);
        quantumEnd += QUANTUM;
    }
}
