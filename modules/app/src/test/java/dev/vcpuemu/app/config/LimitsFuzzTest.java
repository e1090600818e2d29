package dev.vcpuemu.app.config;

import dev.vcpuemu.model.settings.Settings;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every rate and interval is finite and bounded: a value past a bound is one line of bad input
 * at that key, and a value at or inside the bounds loads. Run lengths that never end (a quantum
 * of a year, a reclaimer evicting every nanosecond) are the failures these bounds prevent.
 */
class LimitsFuzzTest {
    private static final long MILLI = 1_000_000L;
    private static final long DAY = 86_400_000_000_000L;

    /** {@code --set} arguments and the key whose value must be rejected. */
    record Case(List<String> sets, String key) {}

    @Provide
    Arbitrary<Case> outOfBounds() {
        Arbitrary<Case> quantum = Arbitraries.longs().between(MILLI + 1, 365 * DAY)
                .map(n -> new Case(List.of("engine.quantum=" + n + "ns"), "vcpu-emu.engine.quantum"));
        Arbitrary<Case> evict = Arbitraries.oneOf(
                        Arbitraries.doubles().between(-Double.MAX_VALUE, Double.MAX_VALUE)
                                .map(d -> String.format(Locale.ROOT, "%.6e", d))
                                .filter(v -> Double.parseDouble(v) < 0 || Double.parseDouble(v) > 10_000),
                        Arbitraries.of("1e400", "-1e400", "1e309", "10000.001"))
                .map(v -> new Case(List.of("host.memory.evict-rate=" + v), "vcpu-emu.host.memory.evict-rate"));
        Arbitrary<Case> period = Combinators.combine(Arbitraries.longs().between(2, 1_000),
                        Arbitraries.of("host.exit-interval", "guest.tick-period", "guest.smi.interval", "nmi"),
                        Arbitraries.doubles().between(0, 1))
                .as((opCost, key, at) -> {
                    long p = 1 + (long) (at * (opCost - 2));
                    String op = "engine.op-cost=" + opCost + "ns";
                    return key.equals("nmi")
                            ? new Case(List.of(op, "nmi.sources=[{name=a, interval=" + p + "ns}]"),
                                    "vcpu-emu.nmi.sources[0].interval")
                            : new Case(List.of(op, key + "=" + p + "ns"), "vcpu-emu." + key);
                });
        Arbitrary<Case> run = Combinators.combine(Arbitraries.longs().between(366, 1_000_000_000L),
                        Arbitraries.of("run.duration", "run.progress-interval"))
                .as((days, key) -> new Case(List.of(key + "=" + days + "d"), "vcpu-emu." + key));
        Arbitrary<Case> parallelism = Arbitraries.integers().between(32_768, Integer.MAX_VALUE)
                .map(n -> new Case(List.of("engine.parallelism=" + n), "vcpu-emu.engine.parallelism"));
        Arbitrary<Case> workers = Arbitraries.integers().between(65_537, Integer.MAX_VALUE)
                .map(n -> new Case(List.of("host.paging-workers=" + n), "vcpu-emu.host.paging-workers"));
        return Arbitraries.oneOf(quantum, evict, period, run, parallelism, workers);
    }

    @Property(tries = 300)
    void aRateOrIntervalPastItsBoundIsBadInputAtItsKey(@ForAll("outOfBounds") Case c) {
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> new SettingsLoader().load(Optional.empty(), c.sets()),
                "accepted " + c.sets());
        assertEquals(Optional.of(c.key()), p.key(), p.getMessage());
        assertEquals(Optional.of(Origins.SET_PREFIX + c.sets().get(c.sets().size() - 1)), p.location(), p.getMessage());
        assertFalse(p.getMessage().contains("\n"), p.getMessage());
    }

    @Provide
    Arbitrary<List<String>> withinBounds() {
        Arbitrary<Long> opCost = Arbitraries.longs().between(1, 1_000);
        return Combinators.combine(opCost, Arbitraries.longs().between(0, MILLI), Arbitraries.doubles().between(0, 10_000),
                        Arbitraries.longs().between(0, 1_000), Arbitraries.integers().between(0, 32_767),
                        Arbitraries.longs().between(1, 365))
                .as((op, q, evict, extra, threads, days) -> List.of(
                        "engine.op-cost=" + op + "ns",
                        "engine.quantum=" + Math.max(op, q) + "ns",
                        "host.swap-in-latency.distribution=fixed",
                        "host.swap-in-latency.mean=" + Math.max(op, q) + "ns",
                        "host.memory.evict-rate=" + evict,
                        "host.exit-interval=" + (op + extra) + "ns",
                        "guest.tick-period=" + (op + extra) + "ns",
                        "guest.smi.interval=" + op + "ns",
                        "nmi.sources=[{name=a, interval=" + (op + extra) + "ns}]",
                        "engine.parallelism=" + threads,
                        "run.duration=" + days + "d",
                        "run.progress-interval=" + days + "d"));
    }

    @Property(tries = 200)
    void valuesWithinTheBoundsLoad(@ForAll("withinBounds") List<String> sets) throws ConfigProblem {
        Settings s = new SettingsLoader().load(Optional.empty(), sets).settings();
        assertEquals(s.engine().opCostNanos(), s.guest().smi().intervalNanos());
    }
}
