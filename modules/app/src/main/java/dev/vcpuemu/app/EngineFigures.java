package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.stats.Counter;

import java.io.PrintWriter;
import java.util.List;
import java.util.Objects;

/**
 * What an emulator phase of {@code bench} did for a user, beside the engine's messages and
 * micro-ops (which say as much about the workload as about the engine): simulated seconds per
 * wall second, and APF round trips (page-readies that answer a not-present, wake-alls aside) per
 * wall second; for the concurrent engine also the quantum barrier: the share of wall time while
 * fewer of a quantum's participants were left than the dispatcher has threads (at least one
 * thread with nothing of the quantum to run), and the share spent in priming rounds.
 *
 * @param barrier the time-keeper's figures, or null (deterministic engine)
 * @param settle where the measured part of the run began ({@code bench --settle}), or null: from its start
 */
record EngineFigures(double wallSeconds, double simulatedSeconds, long roundTrips, RunControl.Barrier barrier,
                     Settled settle) {

    /**
     * A run measured from its settle point: the simulated time of the progress sample that began
     * the measurement, and the wall time the run took from its first quantum to get there.
     */
    record Settled(double simulatedSeconds, double wallSeconds) {}

    static EngineFigures of(RunResult r, RunControl.Barrier barrier, Settled settle) {
        long roundTrips = r.counters().getOrDefault(Counter.APF_PAGE_READY_INJECTED.key, 0L)
                - r.counters().getOrDefault(Counter.WAKE_ALLS.key, 0L);
        return new EngineFigures(r.wallSeconds(), r.simulatedNanos() / 1e9, roundTrips, barrier, settle);
    }

    double simulatedSecondsPerSecond() {
        return wallSeconds > 0 ? simulatedSeconds / wallSeconds : 0;
    }

    double roundTripsPerSecond() {
        return wallSeconds > 0 ? roundTrips / wallSeconds : 0;
    }

    /** Share of wall time a thread waited at the quantum barrier, or -1 when not measured. */
    double barrierShare() {
        return barrier == null || wallSeconds <= 0 ? -1 : barrier.waitNanos() / 1e9 / wallSeconds;
    }

    /** Share of wall time in priming rounds, or -1 when not measured. */
    double primingShare() {
        return barrier == null || wallSeconds <= 0 ? -1 : barrier.primingNanos() / 1e9 / wallSeconds;
    }

    /** Mean wall time of a quantum, microseconds, or -1 when not measured. */
    double microsPerQuantum() {
        return barrier == null || barrier.quanta() == 0 ? -1
                : barrier.quantumNanos() / 1e3 / barrier.quanta();
    }

    void print(PrintWriter o) {
        if (settle != null) {
            o.printf("  %-34s measured from %.3f ms simulated, reached after %.1f s wall%n", "",
                    settle.simulatedSeconds() * 1e3, settle.wallSeconds());
        }
        o.printf("  %-34s %8.3f simulated s/s   %,12.0f APF round trips/s%n", "", simulatedSecondsPerSecond(),
                roundTripsPerSecond());
        if (barrier != null) {
            o.printf("  %-34s barrier %.1f %% of wall time (fewer participants left than its %d thread(s)),"
                            + " priming %.1f %%; %,d quanta, %.1f us wall each%n", "", 100 * barrierShare(),
                    barrier.threads(), 100 * primingShare(), barrier.quanta(), microsPerQuantum());
        }
        o.flush();
    }

    /** The medians (with ranges) over a phase's runs, into its JSON. */
    static void put(ObjectNode x, List<EngineFigures> runs) {
        List<EngineFigures> figures = runs.stream().filter(Objects::nonNull).toList();
        if (figures.isEmpty()) {
            return;
        }
        BenchCommand.putStat(x, "simulatedSecondsPerSecond",
                figures.stream().mapToDouble(EngineFigures::simulatedSecondsPerSecond).toArray());
        BenchCommand.putStat(x, "apfRoundTripsPerSecond",
                figures.stream().mapToDouble(EngineFigures::roundTripsPerSecond).toArray());
        if (figures.stream().allMatch(f -> f.barrier() != null)) {
            BenchCommand.putStat(x, "barrierShare", figures.stream().mapToDouble(EngineFigures::barrierShare).toArray());
            BenchCommand.putStat(x, "primingShare", figures.stream().mapToDouble(EngineFigures::primingShare).toArray());
            BenchCommand.putStat(x, "microsPerQuantum",
                    figures.stream().mapToDouble(EngineFigures::microsPerQuantum).toArray());
        }
    }
}
