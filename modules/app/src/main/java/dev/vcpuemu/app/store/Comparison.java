package dev.vcpuemu.app.store;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Two reports, or two bench results, side by side: each number of one against the same number
 * of the other, with the difference B - A, absolute and relative to A. For reports: the rates,
 * the counters, the findings and each latency's percentiles; for bench results: each phase's
 * rates, the emulator's start-up and heap, and the ratios, at each size both measured.
 */
public final class Comparison {
    /** A report that cannot be compared: the one line to print. */
    public static final class Problem extends Exception {
        public Problem(String message) {
            super(message, null, false, false);
        }
    }

    /** One compared number; {@code a} or {@code b} is null where only one side has it. */
    public record Row(String name, Double a, Double b, String unit) {
        public Double difference() {
            return a == null || b == null ? null : b - a;
        }

        /** (B - A) / A, or null where A is missing or zero. */
        public Double relative() {
            return a == null || b == null || a == 0 ? null : (b - a) / Math.abs(a);
        }
    }

    public record Section(String title, List<Row> rows) {}

    /** One side: where it came from and what ran. */
    public record Side(String label, Path file, JsonNode report) {
        String describe() {
            JsonNode t = report.path("topology");
            String topology = t.isObject() ? t.path("file").asText() + ", " + t.path("vcpus").asText() + " vCPUs, "
                    + t.path("hostEra").asText() + "/" + t.path("guestEra").asText() : t.asText();
            return report.path("command").asText() + " " + topology
                    + (report.has("engine") ? ", " + report.get("engine").asText() + " engine" : "")
                    + (report.hasNonNull("seed") ? ", seed " + report.get("seed").asText() : "")
                    + (report.has("version") ? ", version " + report.get("version").asText() : "");
        }
    }

    private final Side a;
    private final Side b;
    private final List<Section> sections;

    private Comparison(Side a, Side b, List<Section> sections) {
        this.a = a;
        this.b = b;
        this.sections = sections;
    }

    public List<Section> sections() {
        return sections;
    }

    /**
     * The report a command-line reference names: a report file; a run directory (its
     * {@code report.json}, else its fault report); {@code latest}, or a directory's name, in
     * the store at {@code root}.
     */
    public static Path locate(String ref, Path root) throws Problem {
        Path p = Path.of(ref);
        if (!Files.exists(p) && !Files.isSymbolicLink(p)) {
            Path inStore = root.resolve(ref);
            if (!Files.exists(inStore) && !Files.isSymbolicLink(inStore)) {
                throw new Problem(ref + ": no such report file or run directory"
                        + (ref.equals(RunStore.LATEST) ? " (no run has been stored in " + root + "/ yet)" : ""));
            }
            p = inStore;
        }
        try {
            if (p.getFileName() != null && p.getFileName().toString().equals(RunStore.LATEST) && !Files.isDirectory(p)) {
                Path named = RunStore.latestOf(p);
                if (named == null) {
                    throw new Problem(ref + ": names no run directory");
                }
                p = named;
            }
        } catch (IOException e) {
            throw new Problem(ref + ": cannot read: " + e.getMessage());
        }
        if (Files.isDirectory(p)) {
            for (String name : List.of(RunStore.REPORT, RunStore.FAULT_REPORT)) {
                if (Files.isRegularFile(p.resolve(name))) {
                    return p.resolve(name);
                }
            }
            throw new Problem(ref + ": no " + RunStore.REPORT + " in run directory " + p
                    + " (it is unfinished, or its command writes none)");
        }
        return p;
    }

    /** A report or bench result file, read and checked. */
    public static JsonNode read(Path file) throws Problem {
        JsonNode r;
        try {
            r = RunStore.JSON.readTree(file.toFile());
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new Problem(file + ": not a vcpu-emu report: " + msg);
        }
        if (r == null || !r.isObject() || !r.has("schema") || !r.has("command")) {
            throw new Problem(file + ": not a vcpu-emu report (no schema and command fields)");
        }
        return r;
    }

    public static Comparison of(Side a, Side b) throws Problem {
        boolean benchA = isBench(a.report());
        if (benchA != isBench(b.report())) {
            throw new Problem("cannot compare a bench result with a run report: " + (benchA ? a : b).file() + " is a bench result, "
                    + (benchA ? b : a).file() + " a report");
        }
        return new Comparison(a, b, benchA ? bench(a.report(), b.report()) : reports(a.report(), b.report()));
    }

    private static boolean isBench(JsonNode r) {
        return r.path("command").asText().equals("bench");
    }

    private static List<Section> reports(JsonNode a, JsonNode b) {
        List<Section> sections = new ArrayList<>();
        List<Row> run = new ArrayList<>();
        for (String[] f : new String[][] {{"wallSeconds", "s"}, {"simulatedSeconds", "s"}, {"microOpsPerSecond", "/s"},
                {"messagesPerSecond", "/s"}}) {
            run.add(new Row(f[0], num(a.get(f[0])), num(b.get(f[0])), f[1]));
        }
        sections.add(new Section("run", run));
        sections.add(new Section("counters", fields(a.path("counters"), b.path("counters"), "", 1, true)));
        sections.add(new Section("findings", fields(a.path("findings"), b.path("findings"), "", 1, true)));
        List<Row> latencies = new ArrayList<>();
        for (String kind : keys(a.path("latencies"), b.path("latencies"))) {
            JsonNode la = a.path("latencies").path(kind);
            JsonNode lb = b.path("latencies").path(kind);
            if (la.path("count").asLong() == 0 && lb.path("count").asLong() == 0) {
                continue;
            }
            latencies.add(new Row(kind + " count", num(la.get("count")), num(lb.get("count")), ""));
            for (String p : List.of("p50", "p90", "p99", "p999", "max")) {
                latencies.add(new Row(kind + " " + p, micros(la.get(p + "Nanos")), micros(lb.get(p + "Nanos")), "µs"));
            }
        }
        sections.add(new Section("latencies (virtual µs)", latencies));
        return sections;
    }

    private static List<Section> bench(JsonNode a, JsonNode b) {
        List<Section> sections = new ArrayList<>();
        for (JsonNode sa : a.path("sizes")) {
            JsonNode sb = null;
            for (JsonNode x : b.path("sizes")) {
                if (x.path("vcpus").asLong() == sa.path("vcpus").asLong()) {
                    sb = x;
                }
            }
            if (sb == null) {
                continue;
            }
            List<Row> rows = new ArrayList<>();
            for (String phase : keys(sa.path("phases"), sb.path("phases"))) {
                JsonNode pa = sa.path("phases").path(phase);
                JsonNode pb = sb.path("phases").path(phase);
                rows.add(new Row(phase + " M msg/s", mega(pa.get("messagesPerSecond")), mega(pb.get("messagesPerSecond")), "M/s"));
                if (pa.has("microOpsPerSecond") || pb.has("microOpsPerSecond")) {
                    rows.add(new Row(phase + " M micro-ops/s", mega(pa.get("microOpsPerSecond")),
                            mega(pb.get("microOpsPerSecond")), "M/s"));
                }
                for (String f : List.of("startupSeconds", "heapLiveBytes", "bytesPerVcpu")) {
                    if (pa.has(f) || pb.has(f)) {
                        rows.add(new Row(phase + " " + f, num(pa.get(f)), num(pb.get(f)), ""));
                    }
                }
            }
            for (String ratio : keys(sa.path("ratios"), sb.path("ratios"))) {
                rows.add(new Row("ratio " + ratio + " %", percent(sa.path("ratios").get(ratio)),
                        percent(sb.path("ratios").get(ratio)), "%"));
            }
            sections.add(new Section(sa.path("vcpus").asText() + " vCPUs", rows));
        }
        JsonNode ea = a.path("explore");
        JsonNode eb = b.path("explore");
        if (ea.has("runsPerSecond") && eb.has("runsPerSecond")) {
            sections.add(new Section(ea.path("name").asText(), List.of(
                    new Row("runs/s", num(ea.get("runsPerSecond")), num(eb.get("runsPerSecond")), "/s"))));
        }
        return sections;
    }

    /** A row per numeric field of either object; {@code nonZeroOnly}: only where either side is not 0 (or missing). */
    private static List<Row> fields(JsonNode a, JsonNode b, String unit, double scale, boolean nonZeroOnly) {
        List<Row> rows = new ArrayList<>();
        for (String k : keys(a, b)) {
            Double x = num(a.get(k));
            Double y = num(b.get(k));
            if (nonZeroOnly && (x == null || x == 0) && (y == null || y == 0)) {
                continue;
            }
            rows.add(new Row(k, x == null ? null : x * scale, y == null ? null : y * scale, unit));
        }
        return rows;
    }

    private static Set<String> keys(JsonNode a, JsonNode b) {
        Set<String> keys = new LinkedHashSet<>();
        for (JsonNode n : List.of(a, b)) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                keys.add(it.next());
            }
        }
        return keys;
    }

    private static Double num(JsonNode n) {
        return n == null || !n.isNumber() ? null : n.asDouble();
    }

    private static Double micros(JsonNode n) {
        Double d = num(n);
        return d == null ? null : d / 1e3;
    }

    private static Double mega(JsonNode n) {
        Double d = num(n);
        return d == null ? null : d / 1e6;
    }

    private static Double percent(JsonNode n) {
        Double d = num(n);
        return d == null ? null : d * 100;
    }

    static String format(Double v) {
        if (v == null) {
            return "-";
        }
        double x = Math.abs(v);
        if (v == Math.rint(v) && x < 1e15) {
            return String.format(Locale.ROOT, "%,d", v.longValue());
        }
        return String.format(Locale.ROOT, x >= 1000 ? "%,.0f" : x >= 10 ? "%.1f" : "%.3f", v);
    }

    static String signed(Double v) {
        return v == null ? "-" : (v > 0 ? "+" : "") + format(v);
    }

    static String relative(Double r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%+.1f %%", 100 * r);
    }

    /** The comparison as a text table (a line per number, grouped by section). */
    public String text() {
        StringBuilder s = new StringBuilder();
        s.append("A: ").append(a.file()).append(": ").append(a.describe()).append('\n');
        s.append("B: ").append(b.file()).append(": ").append(b.describe()).append('\n');
        for (Section sec : sections) {
            s.append('\n').append(String.format(Locale.ROOT, "%-44s %16s %16s %16s %10s%n", sec.title(), "A", "B", "B - A",
                    "(B-A)/A"));
            if (sec.rows().isEmpty()) {
                s.append("  none\n");
            }
            for (Row r : sec.rows()) {
                s.append(String.format(Locale.ROOT, "  %-42s %16s %16s %16s %10s%n", r.name(), format(r.a()), format(r.b()),
                        signed(r.difference()), relative(r.relative())));
            }
        }
        return s.toString();
    }

    /** The comparison as one self-contained HTML page. */
    public String html() {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vcpu-emu compare</title>\n<style>")
                .append("body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}")
                .append("th,td{padding:.25em .6em;border-bottom:1px solid #ddd}th{background:#f4f4f4;text-align:left}")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}")
                .append("</style></head><body>\n<h1>vcpu-emu compare</h1>\n<dl>");
        for (Side side : List.of(a, b)) {
            h.append("<dt>").append(side.label()).append(": <code>").append(RunIndex.esc(side.file().toString()))
                    .append("</code></dt><dd>").append(RunIndex.esc(side.describe())).append("</dd>");
        }
        h.append("</dl>\n");
        for (Section sec : sections) {
            h.append("<h2>").append(RunIndex.esc(sec.title())).append("</h2>\n<table><thead><tr><th></th><th>A</th><th>B</th>")
                    .append("<th>B - A</th><th>(B - A) / A</th></tr></thead><tbody>\n");
            for (Row r : sec.rows()) {
                h.append("<tr><td>").append(RunIndex.esc(r.name())).append("</td><td class=\"n\">").append(format(r.a()))
                        .append("</td><td class=\"n\">").append(format(r.b())).append("</td><td class=\"n\">")
                        .append(signed(r.difference())).append("</td><td class=\"n\">")
                        .append(relative(r.relative())).append("</td></tr>\n");
            }
            h.append("</tbody></table>\n");
        }
        h.append("</body></html>\n");
        return h.toString();
    }
}
