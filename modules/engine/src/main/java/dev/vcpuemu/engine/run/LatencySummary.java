package dev.vcpuemu.engine.run;

import org.HdrHistogram.Histogram;

/**
 * Percentiles of one latency, in virtual nanoseconds (HdrHistogram, 2 significant digits).
 *
 * @param histogram the values themselves, not to be changed: summaries of parts of a run (one
 *                  per JVM of a run over several) merge exactly through them, percentiles cannot
 */
public record LatencySummary(long count, double mean, long p50, long p90, long p99, long p999, long max,
                             Histogram histogram) {
    public static LatencySummary of(Histogram h) {
        return new LatencySummary(h.getTotalCount(), h.getTotalCount() == 0 ? 0 : h.getMean(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue(), h);
    }
}
