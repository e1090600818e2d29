package dev.vcpuemu.app.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The HTML report: one self-contained page (no network needed to view it) made of the JSON
 * report and the run's progress intervals. The page carries them as a JSON block and draws
 * everything with a little inline JavaScript and SVG: topology, findings with their example
 * event windows, throughput and findings over time, latency percentiles, the per-vCPU time
 * breakdown and, for a soak, the live heap. The page marks itself when drawn
 * ({@code body[data-rendered]}) and records any script error ({@code body[data-errors]}), which
 * the headless-browser test reads.
 */
public final class HtmlReport {
    /** Interval points drawn at most; longer series are merged into this many buckets. */
    static final int MAX_POINTS = 1500;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEMPLATE = load();

    private HtmlReport() {
    }

    /** The page for {@code report} with the chart series of {@code intervals} (interval lines, oldest first). */
    public static String render(JsonNode report, List<? extends JsonNode> intervals) {
        ObjectNode data = JSON.createObjectNode();
        data.set("report", report);
        data.set("series", series(intervals));
        String json;
        try {
            json = JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        // Inside <script>, "</" could end the element: JSON allows the escaped form "<\/".
        return TEMPLATE.replace("/*VCPU_EMU_DATA*/{}", json.replace("</", "<\\/"));
    }

    /** Writes the page atomically (temporary file, then rename). */
    public static void write(Path target, JsonNode report, List<? extends JsonNode> intervals) throws IOException {
        AtomicFiles.writeString(target, render(report, intervals));
    }

    /** Reads interval lines (JSON lines; an incomplete last line, as a kill leaves it, is skipped). */
    public static List<JsonNode> readLines(Path jsonl) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        if (!Files.exists(jsonl)) {
            return lines;
        }
        for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                lines.add(JSON.readTree(line));
            } catch (JsonProcessingException e) {
                break;
            }
        }
        return lines;
    }

    /**
     * The chart series: wall time, micro-ops/s, new findings by kind and live heap per point;
     * runs of more than {@link #MAX_POINTS} intervals are merged into buckets (rates averaged,
     * findings summed, heap at its largest).
     */
    static ObjectNode series(List<? extends JsonNode> intervals) {
        int bucket = Math.max(1, (intervals.size() + MAX_POINTS - 1) / MAX_POINTS);
        ObjectNode s = JSON.createObjectNode();
        s.put("intervals", intervals.size());
        s.put("bucket", bucket);
        ArrayNode t = s.putArray("wallSeconds");
        ArrayNode sim = s.putArray("simulatedSeconds");
        ArrayNode uops = s.putArray("microOpsPerSecond");
        ArrayNode heap = s.putArray("heapBytes");
        ObjectNode findings = s.putObject("findings");
        int points = (intervals.size() + bucket - 1) / bucket;
        for (int p = 0; p < points; p++) {
            List<? extends JsonNode> b = intervals.subList(p * bucket, Math.min(intervals.size(), (p + 1) * bucket));
            JsonNode last = b.get(b.size() - 1);
            t.add(last.path("wallSeconds").asDouble());
            sim.add(last.path("simulatedSeconds").asDouble());
            uops.add(b.stream().mapToDouble(l -> l.path("microOpsPerSecond").asDouble()).average().orElse(0));
            heap.add(b.stream().mapToLong(l -> l.path("heapAfterGcBytes").asLong(0)).max().orElse(0));
            for (JsonNode l : b) {
                for (Iterator<String> k = l.path("findings").fieldNames(); k.hasNext(); ) {
                    String kind = k.next();
                    ArrayNode series = findings.has(kind) ? (ArrayNode) findings.get(kind) : zeros(findings.putArray(kind), points);
                    series.set(p, series.get(p).asLong() + l.get("findings").get(kind).asLong());
                }
            }
        }
        return s;
    }

    private static ArrayNode zeros(ArrayNode a, int n) {
        for (int i = 0; i < n; i++) {
            a.add(0L);
        }
        return a;
    }

    private static String load() {
        try (InputStream in = HtmlReport.class.getResourceAsStream("report.html")) {
            if (in == null) {
                throw new IllegalStateException("report.html is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
