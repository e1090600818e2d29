package dev.vcpuemu.app.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.BuildInfo;
import dev.vcpuemu.engine.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * The HTML report: one self-contained page (no network needed to view it) made of the JSON
 * report, the run's progress intervals and where the run came from (version, commit, command
 * line, the command that repeats a deterministic run, the timeline file). The page carries them
 * as a JSON block and draws everything with a little inline JavaScript and SVG, every chart with
 * titled axes in a stated unit and round ticks: topology, findings with their example event
 * windows, throughput and findings over time, latency percentiles of the run and per interval,
 * the per-vCPU time breakdown and, for a soak, the mailbox backlog and the live heap. A chart
 * that would be empty is one line of text instead. The page marks itself when drawn
 * ({@code body[data-rendered]}, the number of charts) and records any script error or console
 * error ({@code body[data-errors]}), which the headless-browser test reads.
 */
public final class HtmlReport {
    /** Interval points drawn at most; longer series are merged into this many buckets. */
    static final int MAX_POINTS = 1500;
    /** The percentiles of each interval's latencies drawn over time. */
    private static final List<String> LATENCY_FIELDS = List.of("p50Nanos", "p90Nanos", "p99Nanos", "maxNanos");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEMPLATE = load();
    /** Version, git commit and build date, written at build time when the build can (absent otherwise). */

    private HtmlReport() {
    }

    /**
     * Where a run came from, for the page's header; null fields are left out.
     *
     * @param commit     the source commit of the build, or null when the build does not record it
     * @param built      when the build was made, or null
     * @param written    when the page was written
     * @param replay     a command that repeats the run exactly (deterministic runs), or null
     * @param trace      the run's timeline file ({@code --trace}), or null
     */
    public record Provenance(String version, String commit, String built, Instant written, String commandLine,
                             String replay, Path trace) {
        /** What a page written from a report alone knows: its version, and the build's commit and date. */
        public static Provenance of(JsonNode report) {
            return new Provenance(report.path("version").asText(null), buildCommit(), buildDate(), Instant.now(), null,
                    null, null);
        }
    }

    /** The commit this build was made from, as {@code 1a2b3c4d5e6f[+changes]}; null when unknown. */
    public static String buildCommit() {
        return BuildInfo.commit().equals("unknown") ? null : BuildInfo.shortCommit();
    }

    /** When this build was made (ISO 8601, UTC); null when unknown. */
    public static String buildDate() {
        String d = BuildInfo.date();
        return d.equals("unknown") ? null : d;
    }

    /** The page for {@code report} with the chart series of {@code intervals} (interval lines, oldest first). */
    public static String render(JsonNode report, List<? extends JsonNode> intervals) {
        return render(report, intervals, Provenance.of(report), null);
    }

    /** As above, with its header from {@code p}; {@code target} is where the page goes (to link the trace), or null. */
    static String render(JsonNode report, List<? extends JsonNode> intervals, Provenance p, Path target) {
        ObjectNode data = JSON.createObjectNode();
        data.set("report", report);
        data.set("series", series(intervals));
        data.set("run", provenance(p, target));
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
        write(target, report, intervals, Provenance.of(report));
    }

    /** As above, with the header from {@code p}. */
    public static void write(Path target, JsonNode report, List<? extends JsonNode> intervals, Provenance p)
            throws IOException {
        AtomicFiles.writeString(target, render(report, intervals, p, target));
    }

    private static ObjectNode provenance(Provenance p, Path target) {
        ObjectNode run = JSON.createObjectNode();
        putIfSet(run, "version", p.version());
        putIfSet(run, "commit", p.commit());
        putIfSet(run, "built", p.built());
        putIfSet(run, "written", p.written() == null ? null
                : DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(p.written().atZone(ZoneOffset.UTC).withNano(0)) + " UTC");
        putIfSet(run, "commandLine", p.commandLine());
        putIfSet(run, "replay", p.replay());
        if (p.trace() != null) {
            run.put("traceFile", p.trace().toString());
            run.put("traceHref", href(p.trace(), target));
        }
        return run;
    }

    private static void putIfSet(ObjectNode o, String key, String value) {
        if (value != null) {
            o.put(key, value);
        }
    }

    /** A link from the page at {@code page} to {@code file}: relative when both are on one root, else a file URI. */
    static String href(Path file, Path page) {
        Path f = file.toAbsolutePath().normalize();
        Path dir = page == null ? null : page.toAbsolutePath().normalize().getParent();
        if (dir == null || !Objects.equals(f.getRoot(), dir.getRoot())) {
            return f.toUri().toString();
        }
        StringBuilder b = new StringBuilder();
        try {
            for (Path part : dir.relativize(f)) {
                if (b.length() > 0) {
                    b.append('/');
                }
                // Each segment escaped on its own: spaces, '#', '?' and ':' stay part of the name.
                b.append(new URI(null, null, part.toString(), null).getRawPath().replace(":", "%3A")
                        .replace("?", "%3F").replace("#", "%23"));
            }
        } catch (URISyntaxException e) {
            return f.toUri().toString();
        }
        return b.toString();
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
     * The chart series: wall time, micro-ops/s, new findings by kind, live heap, mailbox backlog
     * (null where the run did not count it) and each latency kind's p50, p90, p99 and max per
     * point (null where the interval recorded none of that kind); runs of more than
     * {@link #MAX_POINTS} intervals are merged into buckets (rates averaged, findings summed,
     * heap, backlog and latency percentiles at their largest).
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
        ArrayNode backlog = s.putArray("mailboxBacklog");
        ArrayNode backlogMax = s.putArray("mailboxBacklogMax");
        ObjectNode findings = s.putObject("findings");
        ObjectNode latencies = s.putObject("latencies");
        int points = (intervals.size() + bucket - 1) / bucket;
        for (int p = 0; p < points; p++) {
            List<? extends JsonNode> b = intervals.subList(p * bucket, Math.min(intervals.size(), (p + 1) * bucket));
            JsonNode last = b.get(b.size() - 1);
            t.add(last.path("wallSeconds").asDouble());
            sim.add(last.path("simulatedSeconds").asDouble());
            uops.add(b.stream().mapToDouble(l -> l.path("microOpsPerSecond").asDouble()).average().orElse(0));
            heap.add(b.stream().mapToLong(l -> l.path("heapAfterGcBytes").asLong(0)).max().orElse(0));
            addLargest(backlog, b, "mailboxBacklog");
            addLargest(backlogMax, b, "mailboxBacklogMax");
            for (JsonNode l : b) {
                for (Iterator<String> k = l.path("latencies").fieldNames(); k.hasNext(); ) {
                    String kind = k.next();
                    if (!latencies.has(kind)) {
                        ObjectNode percentiles = latencies.putObject(kind);
                        for (String field : LATENCY_FIELDS) {
                            nulls(percentiles.putArray(field), points);
                        }
                    }
                    ObjectNode percentiles = (ObjectNode) latencies.get(kind);
                    for (String field : LATENCY_FIELDS) {
                        ArrayNode series = (ArrayNode) percentiles.get(field);
                        long v = l.get("latencies").get(kind).path(field).asLong();
                        if (series.get(p).isNull() || series.get(p).asLong() < v) {
                            series.set(p, v);
                        }
                    }
                }
            }
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

    /** The largest non-negative {@code field} of the bucket's lines, or null (-1 or absent: not counted). */
    private static void addLargest(ArrayNode series, List<? extends JsonNode> bucket, String field) {
        long largest = bucket.stream().mapToLong(l -> l.path(field).asLong(-1)).max().orElse(-1);
        if (largest < 0) {
            series.addNull();
        } else {
            series.add(largest);
        }
    }

    private static void nulls(ArrayNode a, int n) {
        for (int i = 0; i < n; i++) {
            a.addNull();
        }
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
