package dev.vcpuemu.app.store;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;

/** {@code runs/index.html}: one self-contained page listing every run directory of the store, newest first. */
final class RunIndex {
    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private RunIndex() {
    }

    static String html(List<StoredRun> runs) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vcpu-emu runs</title>\n<style>")
                .append("body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}")
                .append("th,td{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}")
                .append("th{background:#f4f4f4}td.n{text-align:right}.bad{color:#b00}code{font-size:12px}")
                .append("</style></head><body>\n<h1>vcpu-emu runs</h1>\n<p>")
                .append(runs.size()).append(runs.size() == 1 ? " run" : " runs")
                .append(" in this directory, newest first. <code>latest</code> is the newest started.</p>\n")
                .append("<table><thead><tr><th>date</th><th>command</th><th>topology</th><th>eras (host/guest)</th>")
                .append("<th>engine</th><th>seed</th><th>outcome</th><th>findings</th><th>files</th></tr></thead><tbody>\n");
        for (StoredRun run : runs) {
            JsonNode m = run.meta();
            JsonNode report = run.reportJson();
            String outcome = run.outcome(report);
            boolean bad = !m.has("exitCode") || m.get("exitCode").asInt() != 0;
            b.append("<tr><td title=\"").append(esc(run.name())).append("\">").append(esc(date(m.path("started").asText())))
                    .append("</td><td title=\"").append(esc(m.path("commandLine").asText())).append("\">")
                    .append(esc(m.path("command").asText())).append("</td><td>").append(esc(m.path("topology").asText()))
                    .append("</td><td>").append(esc(eras(m))).append("</td><td>").append(esc(m.path("engine").asText()))
                    .append("</td><td class=\"n\">").append(m.has("seed") ? esc(m.get("seed").asText()) : "")
                    .append("</td><td").append(bad ? " class=\"bad\"" : "").append(">").append(esc(outcome))
                    .append("</td><td>").append(esc(StoredRun.findings(report))).append("</td><td>");
            link(b, run.name() + "/", "directory");
            for (String f : List.of(RunStore.HTML, RunStore.REPORT, RunStore.FAULT_REPORT, RunStore.TRACE, RunStore.CONFIG)) {
                if (Files.isRegularFile(run.dir().resolve(f))) {
                    link(b, run.name() + "/" + f, f);
                }
            }
            b.append("</td></tr>\n");
        }
        b.append("</tbody></table>\n</body></html>\n");
        return b.toString();
    }

    private static void link(StringBuilder b, String href, String text) {
        b.append("<a href=\"").append(esc(href)).append("\">").append(esc(text)).append("</a> ");
    }

    private static String eras(JsonNode m) {
        String host = m.path("hostEra").asText("");
        String guest = m.path("guestEra").asText("");
        return host.isEmpty() && guest.isEmpty() ? "" : host + "/" + guest;
    }

    private static String date(String iso) {
        try {
            return OffsetDateTime.parse(iso).format(SHOWN);
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
