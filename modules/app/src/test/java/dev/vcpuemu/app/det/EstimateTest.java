package dev.vcpuemu.app.det;

import dev.vcpuemu.model.finding.FindingKind;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The intervals of {@code explore --estimate}, against published values. */
class EstimateTest {

    @Test
    void wilsonMatchesTheTextbook() {
        // Newcombe (1998), Statistics in Medicine 17, table I: 81 of 263 → 0.2553–0.3662.
        Estimate.Interval i = Estimate.wilson(81, 263);
        assertEquals(0.3080, i.value(), 1e-4);
        assertEquals(0.2553, i.low(), 1e-4);
        assertEquals(0.3662, i.high(), 1e-4);
        // 0 of 10: the interval is 0–0.2775 (the "rule of three" would say 0.3).
        Estimate.Interval zero = Estimate.wilson(0, 10);
        assertEquals(0, zero.low());
        assertEquals(0.2775, zero.high(), 1e-4);
        Estimate.Interval all = Estimate.wilson(10, 10);
        assertEquals(1, all.high());
        assertEquals(0.7225, all.low(), 1e-4);
    }

    @Test
    void poissonIsTheExactInterval() {
        // Exact (Garwood) 95 % limits: 0 → 0–3.689, 1 → 0.0253–5.572, 10 → 4.795–18.39.
        assertEquals(0, Estimate.poisson(0).low());
        assertEquals(3.689, Estimate.poisson(0).high(), 0.001);
        assertEquals(0.0253, Estimate.poisson(1).low(), 0.0001);
        assertEquals(5.572, Estimate.poisson(1).high(), 0.001);
        assertEquals(4.795, Estimate.poisson(10).low(), 0.001);
        assertEquals(18.39, Estimate.poisson(10).high(), 0.01);
        // Past 1,000 the approximation takes over and stays continuous with the exact interval.
        assertEquals(Estimate.poisson(1_000).high(), Estimate.poisson(1_001).high(), 1.5);
    }

    @Test
    void ratesScaleToTheirUnits() {
        // 7 of 200 runs, 9 findings in 96,100 not-presents over 200 runs of 20 ms (4 s simulated).
        Estimate e = new Estimate(FindingKind.APF_WORD_STOLEN, 200, 7, 9, 96_100, 4_000_000_000L);
        assertEquals(0.035, e.perRun().value(), 1e-12);
        assertEquals(9 / 96_100.0 * 1e6, e.perMillionNotPresents().value(), 1e-9);
        assertEquals(9 * 900.0, e.perSimulatedHour().value(), 1e-6);
        Estimate.Interval hour = e.perSimulatedHour();
        assertTrue(hour.low() < hour.value() && hour.value() < hour.high());
        assertEquals(Estimate.poisson(9).high() * 900, hour.high(), 1e-6);
    }
}
