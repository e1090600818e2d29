package dev.vcpuemu.bench;

import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.UserLoop;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.vcpu.Vcpu;
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

import java.util.concurrent.TimeUnit;

/**
 * The async page fault path of the pure model, per era (matching host and guest), on a vCPU
 * with one task whose working set is one page (mapped by the guest): the model's cost per
 * async fault.
 *
 * <p>The two halves in isolation: {@link #faultToSleep}, from the user access to a swapped-out
 * frame through the host's decision, the injected not-present #PF, the guest handler and the
 * sleeper-table wait to the task asleep and the CPU switched to idle; {@link #pageReadyToWake},
 * from the paging worker's completion through the page-ready (#PF or interrupt), the wake and
 * the reschedule to the retried access retired. A half leaves its vCPU in another state and
 * the public model API cannot reset one, so each iteration is one single-shot invocation that
 * takes {@value #POISED} vCPUs (sharing one memory and one sleeper table) through the half,
 * one {@code run} call each of exactly the boundaries the half takes (the model is
 * deterministic: counted once on a probe, checked after every iteration); the iteration's
 * setup brings them round the rest of the cycle to the start of the half again. Each
 * operation works on another vCPU's state, out of cache (several MB for all of them), as on a
 * guest with very many vCPUs: an upper bound, and noisier than {@link #roundTrip}.
 *
 * <p>{@link #roundTrip}: the whole cycle on one warm vCPU, repeated: fault, sleep, page-ready,
 * wake, retry, on to the next access, evict its frame again. The periodic timer tick and exits
 * are pushed out of reach (the path does not need them) so that every cycle takes exactly the
 * same boundaries.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class PageFaultPathBenchmark {
    /** vCPUs per single-shot invocation; at most 4095, as tokens carry the vCPU id in 12 bits (§2.7). */
    static final int POISED = 4000;
    /** A million seconds of virtual time: further than any run of these benchmarks gets. */
    private static final long FAR = 1_000_000_000_000_000L;

    /** The two shipped protocols; the other eras share their fast paths. */
    @Param({"LEGACY", "INTERRUPT"})
    public HostEra era;

    private Settings settings;
    private int faultSteps;
    private int readySteps;
    private int nextAccessSteps;

    @Setup(Level.Trial)
    public void countSteps() {
        settings = (era == HostEra.LEGACY ? TestSettings.legacy() : TestSettings.interrupt())
                .tasks(1).workingSet(1).mappedPages(1).computeOps(2).tick(FAR).exitInterval(FAR).build();
        SoloVcpu probe = poisedAtFault(new SoloVcpu(settings, 1));
        faultSteps = probe.stepUntil("task asleep, CPU idle", () -> asleep(probe.vcpu));
        complete(probe);
        readySteps = probe.stepUntil("access retried and retired", () -> retired(probe.vcpu));
        nextAccessSteps = probe.stepUntil("the next access", () -> atAccess(probe.vcpu));
        probe.check();
    }

    /** vCPUs whose task is at its access to a swapped-out frame. */
    @State(Scope.Thread)
    public static class AtFault {
        private SoloVcpu[] vcpus;

        @Setup(Level.Trial)
        public void boot(PageFaultPathBenchmark b) {
            vcpus = b.poised();
        }

        @Setup(Level.Iteration)
        public void rearm(PageFaultPathBenchmark b) {
            for (SoloVcpu s : vcpus) {
                if (asleep(s.vcpu)) {
                    complete(s);
                    s.vcpu.run(Long.MAX_VALUE, b.readySteps);
                    b.toNextFault(s);
                }
            }
        }

        @TearDown(Level.Iteration)
        public void verify() {
            for (SoloVcpu s : vcpus) {
                s.check();
                if (!asleep(s.vcpu)) {
                    throw new IllegalStateException("the fault path did not end with the task asleep");
                }
            }
        }
    }

    /** vCPUs right after {@link #faultToSleep}, their paging work not yet completed. */
    @State(Scope.Thread)
    public static class Asleep {
        private SoloVcpu[] vcpus;

        @Setup(Level.Trial)
        public void boot(PageFaultPathBenchmark b) {
            vcpus = b.poised();
        }

        @Setup(Level.Iteration)
        public void rearm(PageFaultPathBenchmark b) {
            for (SoloVcpu s : vcpus) {
                if (retired(s.vcpu)) {
                    b.toNextFault(s);
                }
                s.vcpu.run(Long.MAX_VALUE, b.faultSteps);
            }
        }

        @TearDown(Level.Iteration)
        public void verify() {
            for (SoloVcpu s : vcpus) {
                s.check();
                if (!retired(s.vcpu)) {
                    throw new IllegalStateException("the page-ready path did not end with the access retired");
                }
            }
        }
    }

    /** One vCPU going round the cycle. */
    @State(Scope.Thread)
    public static class Warm {
        private SoloVcpu solo;
        private long cycles;

        @Setup(Level.Trial)
        public void boot(PageFaultPathBenchmark b) {
            solo = b.poisedAtFault(new SoloVcpu(b.settings, 1));
        }

        @TearDown(Level.Trial)
        public void verify() {
            solo.check();
            if (!atAccess(solo.vcpu) || solo.vcpu.counters().get(Counter.TASKS_WOKEN) != cycles
                    || solo.vcpu.counters().get(Counter.APF_NOT_PRESENT_INJECTED) != cycles) {
                throw new IllegalStateException("the cycle drifted: " + solo.vcpu.counters().toMap());
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OperationsPerInvocation(POISED)
    @Warmup(iterations = 20)
    @Measurement(iterations = 20)
    public int faultToSleep(AtFault poised) {
        int n = 0;
        for (SoloVcpu s : poised.vcpus) {
            n += s.vcpu.run(Long.MAX_VALUE, faultSteps);
        }
        return n;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OperationsPerInvocation(POISED)
    @Warmup(iterations = 20)
    @Measurement(iterations = 20)
    public int pageReadyToWake(Asleep poised) {
        int n = 0;
        for (SoloVcpu s : poised.vcpus) {
            complete(s);
            n += s.vcpu.run(Long.MAX_VALUE, readySteps);
        }
        return n;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public int roundTrip(Warm warm) {
        SoloVcpu s = warm.solo;
        int n = s.vcpu.run(Long.MAX_VALUE, faultSteps);
        complete(s);
        n += s.vcpu.run(Long.MAX_VALUE, readySteps);
        toNextFault(s);
        warm.cycles++;
        return n;
    }

    /** {@value #POISED} vCPUs on one memory and one sleeper table, each poised at its fault. */
    private SoloVcpu[] poised() {
        AtomicHostMemory memory = new AtomicHostMemory(POISED * Vcpu.framesPerVcpu(settings));
        SleeperTable sleepers = new SleeperTable();
        SoloVcpu[] vcpus = new SoloVcpu[POISED];
        for (int i = 0; i < POISED; i++) {
            vcpus[i] = poisedAtFault(new SoloVcpu(settings, i, memory, sleepers, 1));
        }
        return vcpus;
    }

    /**
     * Booted, the enable's wake-all handled, the page mapped by the guest at the first access
     * (a genuine #PF), and the task at its next access with the frame swapped out.
     */
    private SoloVcpu poisedAtFault(SoloVcpu s) {
        s.allResident();
        s.stepUntil("the enable's wake-all delivered", () -> s.vcpu.counters().get(Counter.WAKE_ALLS) == 1);
        s.stepUntil("the first access mapped and retired", () -> retired(s.vcpu));
        s.stepUntil("the next access", () -> atAccess(s.vcpu));
        s.memory.evict(s.userGfn(0, 0));
        return s;
    }

    /** From the retired access on to the next one, its frame swapped out again. */
    private void toNextFault(SoloVcpu s) {
        s.vcpu.run(Long.MAX_VALUE, nextAccessSteps);
        s.memory.evict(s.userGfn(0, 0));
    }

    /** Plays the paging worker: the frame comes in and the vCPU hears of it now. */
    private static void complete(SoloVcpu s) {
        WorkItem item = s.takeStarted();
        s.memory.makeResident(item.gfn());
        s.vcpu.onWorkDone(item, s.vcpu.nowNanos());
    }

    private static boolean atAccess(Vcpu v) {
        return v.currentTask() == 0 && v.top().routine == Routine.USER && v.top().pc() == UserLoop.ACCESS;
    }

    private static boolean asleep(Vcpu v) {
        return v.sleepingTasks() == 1 && v.currentTask() == -1;
    }

    /** The access retired, every sleep on it ended. */
    private static boolean retired(Vcpu v) {
        return v.currentTask() == 0 && v.top().routine == Routine.USER && v.top().pc() == UserLoop.COMPUTE
                && v.counters().get(Counter.TASKS_WOKEN) == v.counters().get(Counter.TASKS_SLEPT);
    }
}
