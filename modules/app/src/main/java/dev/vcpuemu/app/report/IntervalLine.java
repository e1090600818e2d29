package dev.vcpuemu.app.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.LatencyKind;
import org.HdrHistogram.Histogram;

import java.util.Map;

/**
 * One progress interval as a JSON object: what happened between two progress samples (the
 * counters' and findings' increase, the rates, the latency percentiles of the interval). The
 * lines of a soak's {@code intervals.jsonl} and the series of the HTML report's charts. The
 * counters are the report's, every one of them, and the last interval ends with the run: over
 * the lines of a run, each counter's increases add up to the report's value.
 */
public final class IntervalLine {
    private static final ObjectMapper JSON = new ObjectMapper();

    private IntervalLine() {
    }

    /** @param previous the sample before, or null for the first interval */
    public static ObjectNode of(long interval, Progress p, Progress previous) {
        ObjectNode line = JSON.createObjectNode();
        line.put("interval", interval);
        line.put("wallSeconds", p.wallSeconds());
        line.put("simulatedSeconds", p.simulatedNanos() / 1e9);
        line.put("microOpsPerSecond", p.microOpsPerSecond());
        line.put("messagesPerSecond", p.messagesPerSecond());
        ObjectNode counters = line.putObject("counters");
        p.counters().forEach((k, v) -> counters.put(k, v - (previous == null ? 0 : previous.counters().getOrDefault(k, 0L))));
        ObjectNode findings = line.putObject("findings");
        for (FindingKind k : FindingKind.values()) {
            long before = previous == null ? 0 : previous.findingsByKind().getOrDefault(k, 0L);
            long now = p.findingsByKind().getOrDefault(k, 0L);
            if (now > before) {
                findings.put(k.name(), now - before);
            }
        }
        line.put("findingsSoFar", p.findings());
        ObjectNode latencies = line.putObject("latencies");
        for (Map.Entry<LatencyKind, Histogram> e : p.intervalLatencies().entrySet()) {
            if (e.getValue().getTotalCount() > 0) {
                Report.putLatency(latencies.putObject(e.getKey().key), LatencySummary.of(e.getValue()));
            }
        }
        return line;
    }
}
