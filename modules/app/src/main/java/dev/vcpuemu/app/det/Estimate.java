package dev.vcpuemu.app.det;

import dev.vcpuemu.model.finding.FindingKind;

/**
 * How often a finding kind hits, from many independent runs of one topology ({@code explore
 * --estimate KIND}), with 95 % intervals, so that "how often does this hit at this NMI rate,
 * on this era?" has an answer with its uncertainty:
 * <ul>
 *   <li>per run: the share of runs with at least one such finding, with Wilson's score interval
 *       (good at 0 and at small counts, where the normal approximation says nonsense);</li>
 *   <li>per 10^6 not-presents: findings over async not-present injections, again Wilson's
 *       interval (each injection opens the window at most once);</li>
 *   <li>per simulated hour: findings over simulated time, a Poisson count, with the exact
 *       (Garwood) interval.</li>
 * </ul>
 *
 * @param runs         runs made, each to its full duration
 * @param runsWith     runs with at least one finding of the kind
 * @param findings     findings of the kind in all runs
 * @param notPresents  async not-present injections in all runs
 * @param simulatedNanos simulated time of all runs
 */
public record Estimate(FindingKind kind, long runs, long runsWith, long findings, long notPresents,
                       long simulatedNanos) {
    /** The two-sided 95 % normal quantile. */
    static final double Z = 1.959963984540054;

    private static final double NANOS_PER_HOUR = 3_600e9;

    /** A point estimate and its 95 % interval. */
    public record Interval(double value, double low, double high) {
        Interval scaled(double factor) {
            return new Interval(value * factor, low * factor, high * factor);
        }
    }

    public Interval perRun() {
        return wilson(runsWith, runs);
    }

    /** Per 10^6 not-presents; NaN without any not-present. */
    public Interval perMillionNotPresents() {
        if (notPresents == 0) {
            return new Interval(Double.NaN, Double.NaN, Double.NaN);
        }
        return wilson(Math.min(findings, notPresents), notPresents).scaled(1e6);
    }

    public Interval perSimulatedHour() {
        double hours = simulatedNanos / NANOS_PER_HOUR;
        if (hours == 0) {
            return new Interval(Double.NaN, Double.NaN, Double.NaN);
        }
        return poisson(findings).scaled(1 / hours);
    }

    /** Wilson's score interval for {@code k} successes in {@code n} trials. */
    static Interval wilson(long k, long n) {
        if (n == 0) {
            return new Interval(Double.NaN, Double.NaN, Double.NaN);
        }
        double p = (double) k / n;
        double z2 = Z * Z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = Z / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        // At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave 1e-14 there.
        return new Interval(p, k == 0 ? 0 : Math.max(0, centre - half), k == n ? 1 : Math.min(1, centre + half));
    }

    /**
     * The exact (Garwood) 95 % interval of a Poisson count {@code k}: the means at which seeing
     * at most (at least) {@code k} has probability 2.5 %, found by bisection; above 1,000 Byar's
     * approximation, whose error there is far below the interval's width.
     */
    static Interval poisson(long k) {
        if (k > 1_000) {
            double low = k * Math.pow(1 - 1.0 / (9 * k) - Z / (3 * Math.sqrt(k)), 3);
            double k1 = k + 1;
            double high = k1 * Math.pow(1 - 1 / (9 * k1) + Z / (3 * Math.sqrt(k1)), 3);
            return new Interval(k, low, high);
        }
        // high: P(X <= k; mu) = 0.025; low: P(X >= k; mu) = 0.025, i.e. P(X <= k - 1; mu) = 0.975.
        double high = bisect(k, 0.025);
        double low = k == 0 ? 0 : bisect(k - 1, 0.975);
        return new Interval(k, low, high);
    }

    /** The mean at which P(X <= k) = p (P falls as the mean grows). */
    private static double bisect(long k, double p) {
        double lo = 0;
        double hi = k + 20 + 10 * Math.sqrt(k + 1);
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (cdf(k, mid) > p) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /** P(X <= k) for a Poisson variable of mean {@code mu}, summed in log space. */
    private static double cdf(long k, double mu) {
        double logTerm = -mu;
        double sum = Math.exp(logTerm);
        for (long i = 1; i <= k; i++) {
            logTerm += Math.log(mu) - Math.log(i);
            sum += Math.exp(logTerm);
        }
        return Math.min(1, sum);
    }
}
