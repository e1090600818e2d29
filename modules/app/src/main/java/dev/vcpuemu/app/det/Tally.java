package dev.vcpuemu.app.det;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.engine.run.RunResult;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a search's finished runs add up to: runs, findings by kind, runs with each kind,
 * not-presents and simulated time. Explore keeps one; each node of an explore farm keeps one
 * per range of runs and sends its {@link Counts} to the coordinator, which adds them up, so
 * that the progress line and {@code --estimate} read the same on one JVM or several.
 * Thread-safe.
 */
public final class Tally {
    /**
     * A tally's numbers, as values (they cross nodes). Findings and runs-with by kind hold only
     * kinds seen, in the enum's order.
     *
     * @param roundTrips APF round trips: page-readies that answer a not-present (wake-alls aside)
     */
    public record Counts(long runs, Map<FindingKind, Long> findings, Map<FindingKind, Long> runsWith,
                         long notPresents, long roundTrips, long simulatedNanos) {
        public Counts {
            findings = Collections.unmodifiableMap(new TreeMap<>(findings));
            runsWith = Collections.unmodifiableMap(new TreeMap<>(runsWith));
        }

        public static final Counts NONE = new Counts(0, Map.of(), Map.of(), 0, 0, 0);
    }

    private long runs;
    private final Map<FindingKind, Long> findings = new EnumMap<>(FindingKind.class);
    private final Map<FindingKind, Long> runsWith = new EnumMap<>(FindingKind.class);
    private long notPresents;
    private long roundTrips;
    private long simulatedNanos;

    /** Counts one finished run in. */
    public synchronized void add(RunResult r) {
        r.findings().forEach((k, n) -> {
            if (n > 0) {
                findings.merge(k, n, Long::sum);
                runsWith.merge(k, 1L, Long::sum);
            }
        });
        notPresents += r.counters().getOrDefault(Counter.APF_NOT_PRESENT_INJECTED.key, 0L);
        roundTrips += r.counters().getOrDefault(Counter.APF_PAGE_READY_INJECTED.key, 0L)
                - r.counters().getOrDefault(Counter.WAKE_ALLS.key, 0L);
        simulatedNanos += r.simulatedNanos();
        runs++;
    }

    /** Counts another tally's runs in. */
    public synchronized void add(Counts c) {
        c.findings().forEach((k, n) -> findings.merge(k, n, Long::sum));
        c.runsWith().forEach((k, n) -> runsWith.merge(k, n, Long::sum));
        notPresents += c.notPresents();
        roundTrips += c.roundTrips();
        simulatedNanos += c.simulatedNanos();
        runs += c.runs();
    }

    public synchronized long runs() {
        return runs;
    }

    public synchronized Counts counts() {
        return new Counts(runs, findings, runsWith, notPresents, roundTrips, simulatedNanos);
    }

    /** Findings so far by kind, only kinds seen, in the enum's order. */
    public synchronized Map<FindingKind, Long> findings() {
        return new TreeMap<>(findings);
    }

    /** How often {@code kind} hit in the runs counted (meaningful when every run reached its end). */
    public synchronized Estimate estimate(FindingKind kind) {
        return new Estimate(kind, runs, runsWith.getOrDefault(kind, 0L), findings.getOrDefault(kind, 0L), notPresents,
                simulatedNanos);
    }
}
