package dev.vcpuemu.app;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.Baseline;
import dev.vcpuemu.engine.Simulation;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.settings.Settings;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * How {@code bench} measures one phase: a raw Pekko baseline, or the emulator on one engine,
 * each after its warm-up, with the machine's load watched meanwhile and, for the concurrent
 * engine, the start-up, the live heap and the quantum barrier taken.
 */
final class BenchPhases {
    /** An emulator phase: its run, its footprint (or null), the machine's load, the user-level figures. */
    record Measured(RunResult result, BenchCommand.Footprint footprint, MachineLoad.Load load, EngineFigures figures) {}

    private BenchPhases() {
    }

    static BenchCommand.Sample baseline(Baseline.Dispatcher d, LoadedSettings loaded, int actors, Duration warm,
                                   Duration measure) throws InterruptedException {
        if (!warm.isZero()) {
            Baseline.run(d, loaded.settings(), loaded.config(), actors, warm);
            reclaimWarmUp();
        }
        String name = switch (d) {
            case CONCURRENT -> "raw Pekko, simulation dispatcher";
            case SINGLE_THREAD -> "raw Pekko, one thread";
            case SEEDED -> "raw Pekko, seeded executor";
        };
        MachineLoad load = MachineLoad.start();
        Baseline.Result r = Baseline.run(d, loaded.settings(), loaded.config(), actors, measure);
        return new BenchCommand.Sample(BenchCommand.Phase.of(name, r), null, load.stop(), true);
    }

    /**
     * A warm-up run, then the measured run. With {@code footprint}, the warm-up run (or, without
     * one, the measured run) also takes the live heap: a full GC half way through it, from a
     * thread of its own (a quantum of a big topology can outlast the whole bound, so the
     * simulation's own progress samples may never come), against the heap before it started.
     *
     * <p>With a {@code settle} point, the measured run is counted from its first progress sample
     * at or past that much simulated time, for {@code measure} of wall time from there ({@link
     * Settle}); without one, from its first quantum.
     */
    static Measured emulator(LoadedSettings loaded, boolean deterministic, Duration warm, Duration measure,
                             Duration settle, boolean footprint) throws InterruptedException {
        Settings s = loaded.settings();
        long heapBefore = footprint ? liveHeap() : 0;
        HeapSampler sampler = null;
        if (!warm.isZero()) {
            sampler = footprint ? HeapSampler.after(warm.dividedBy(2)) : null;
            simulate(loaded, deterministic, RunControl.wallClock(warm, s.run().progressInterval()), p -> { });
            reclaimWarmUp();
        } else if (footprint) {
            sampler = HeapSampler.after(measure.dividedBy(2));
        }
        boolean settling = !settle.isZero();
        RunControl control = RunControl.wallClock(settling ? SETTLE_LIMIT.plus(measure) : measure,
                s.run().progressInterval());
        if (!deterministic) {
            control.measureBarrier();
        }
        Settle settled = settling ? new Settle(settle.toNanos(), measure, control) : null;
        MachineLoad load = settling ? null : MachineLoad.start();
        long t0 = System.nanoTime();
        RunResult r = simulate(loaded, deterministic, control, settling ? settled::sample : p -> { });
        EngineFigures.Settled at = null;
        if (settling) {
            r = settled.measured(r, s.topology().totalVcpus());
            load = settled.load;
            at = new EngineFigures.Settled(settled.from.simulatedNanos() / 1e9, settled.from.wallSeconds());
        }
        MachineLoad.Load busy = load.stop();
        BenchCommand.Footprint f = !footprint ? null : new BenchCommand.Footprint(
                (control.startedAtNanos() - t0) / 1e9, heapBefore, sampler.live(), s.topology().totalVcpus());
        return new Measured(r, f, busy, EngineFigures.of(r, control.barrier(), at));
    }

    /** How long a measured run may take to reach its settle point before the bench gives up. */
    static final Duration SETTLE_LIMIT = Duration.ofMinutes(10);

    /**
     * The settle point of a measured run: its first progress sample at or past {@code nanos} of
     * simulated time starts the measurement (the machine's load, the barrier counted afresh) and
     * a stop {@code measure} of wall time later. A run's rate depends on where in simulated time
     * it is: at 100,000 vCPUs the first 0.1 ms (every vCPU booting and taking its first faults)
     * ran at a quarter to two thirds of what followed, and an unsettled ten-second bench sees
     * nothing else (performance page, "Where in simulated time a bench measures").
     */
    static final class Settle {
        private final long nanos;
        private final Duration measure;
        private final RunControl control;
        private volatile Progress from;
        private volatile MachineLoad load;

        Settle(long nanos, Duration measure, RunControl control) {
            this.nanos = nanos;
            this.measure = measure;
            this.control = control;
        }

        /** Each progress sample of the measured run, on the simulation's side (keep it short). */
        void sample(Progress p) {
            if (from != null || p.simulatedNanos() < nanos) {
                return;
            }
            load = MachineLoad.start();
            control.restartBarrier();
            from = p;
            Thread stop = new Thread(() -> {
                try {
                    Thread.sleep(measure.toMillis());
                    control.requestStop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "vcpu-emu-bench-stop");
            stop.setDaemon(true);
            stop.start();
        }

        /** The run after its settle point; fails if the run ended before it got there. */
        RunResult measured(RunResult whole, long vcpus) {
            if (from == null) {
                throw new IllegalStateException(String.format("bench: %,d vCPUs did not reach the settle point of "
                        + "%s simulated within %s of wall time (the run got to %.3f ms); ask for less with --settle",
                        vcpus, ValidateCommand.human(Duration.ofNanos(nanos)), ValidateCommand.human(SETTLE_LIMIT),
                        whole.simulatedNanos() / 1e6));
            }
            return whole.since(from);
        }
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

    private static RunResult simulate(LoadedSettings loaded, boolean deterministic, RunControl control,
                                      Consumer<Progress> progress) throws InterruptedException {
        Settings s = loaded.settings();
        if (deterministic) {
            return Simulation.runDeterministic(s, loaded.config(), control, progress, Strategy.uniform(s.run().seed()),
                    null, null);
        }
        try {
            return Simulation.run(s, loaded.config(), control, progress);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the run did not end within its duration + " + Simulation.GRACE, e);
        }
    }

    /**
     * The warm-up run's actors and model are garbage once it ends: collected here, outside the
     * measured time. Left to the collector, the measured run paid for them: at 100,000 vCPUs two
     * simulations of 1.2 GB each side by side, the dead one marked and evacuated by G1 while the
     * live one ran (a user's run builds one simulation and carries no such heap).
     */
    private static void reclaimWarmUp() {
        System.gc();
    }

    /**
     * The JVM's garbage collector, by the name users pass to {@code -XX:+Use…GC} ({@code G1},
     * {@code Parallel}, …; else its beans' names): at 100,000 vCPUs it decides the rate (see the
     * performance page), so every bench says which one it ran on.
     */
    static String collector() {
        List<String> names = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName).toList();
        String first = names.isEmpty() ? "" : names.get(0);
        if (first.startsWith("G1 ")) {
            return "G1";
        } else if (first.startsWith("PS ")) {
            return "Parallel";
        } else if (first.equals("Copy")) {
            return "Serial";
        } else if (first.startsWith("ZGC")) {
            return "Z";
        } else if (first.startsWith("Shenandoah")) {
            return "Shenandoah";
        }
        return String.join(", ", names);
    }

    /** Heap in use right after a full collection: what is reachable. */
    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

}
