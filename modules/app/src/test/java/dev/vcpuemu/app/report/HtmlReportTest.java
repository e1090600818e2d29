package dev.vcpuemu.app.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data the HTML page draws from: the series taken from the interval lines (latency
 * percentiles per interval, the mailbox backlog, merged buckets) and the header's fields. The
 * drawing itself is checked in a browser by {@code HtmlReportIT}.
 */
class HtmlReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode line(double wall, Long backlog, long swapInP50) {
        ObjectNode l = JSON.createObjectNode();
        l.put("wallSeconds", wall);
        l.put("simulatedSeconds", wall / 10);
        l.put("microOpsPerSecond", 1000 * wall);
        l.put("heapAfterGcBytes", 1L << 20);
        if (backlog != null) {
            l.put("mailboxBacklog", backlog);
            l.put("mailboxBacklogMax", backlog * 2);
        }
        if (swapInP50 > 0) {
            ObjectNode swapIn = l.putObject("latencies").putObject("swapIn");
            swapIn.put("count", 10);
            swapIn.put("p50Nanos", swapInP50);
            swapIn.put("p90Nanos", swapInP50 * 2);
            swapIn.put("p99Nanos", swapInP50 * 3);
            swapIn.put("maxNanos", swapInP50 * 4);
        }
        return l;
    }

    @Test
    void latenciesPerIntervalLeaveAGapWhereAnIntervalHadNone() {
        ObjectNode s = HtmlReport.series(List.of(line(1, 5L, 100), line(2, 7L, 0), line(3, 6L, 300)));
        JsonNode p50 = s.get("latencies").get("swapIn").get("p50Nanos");
        assertEquals(3, p50.size());
        assertEquals(100, p50.get(0).asLong());
        assertTrue(p50.get(1).isNull(), "no swap-in in the second interval: " + p50);
        assertEquals(300, p50.get(2).asLong());
        assertEquals(1200, s.get("latencies").get("swapIn").get("maxNanos").get(2).asLong());
        assertEquals(List.of(5L, 7L, 6L), longs(s.get("mailboxBacklog")));
        assertEquals(List.of(10L, 14L, 12L), longs(s.get("mailboxBacklogMax")));
    }

    @Test
    void aBacklogTheRunDidNotCountIsNullNotZero() {
        // A run's interval lines carry no backlog; a soak's carry -1 when it was not counted.
        ObjectNode uncounted = line(2, null, 0);
        uncounted.put("mailboxBacklog", -1);
        ObjectNode s = HtmlReport.series(List.of(line(1, null, 0), uncounted));
        assertTrue(s.get("mailboxBacklog").get(0).isNull() && s.get("mailboxBacklog").get(1).isNull(), s.toString());
        assertEquals(0, s.get("latencies").size(), "no latency kind without data");
    }

    @Test
    void mergedIntervalsKeepTheLargestPercentileAndBacklog() {
        List<JsonNode> lines = new ArrayList<>();
        for (int i = 0; i < HtmlReport.MAX_POINTS * 2; i++) {
            lines.add(line(i + 1, (long) (i % 2 == 0 ? 1 : 9), i % 2 == 0 ? 50 : 0));
        }
        ObjectNode s = HtmlReport.series(lines);
        assertEquals(2, s.get("bucket").asInt());
        assertEquals(HtmlReport.MAX_POINTS, s.get("mailboxBacklog").size());
        assertTrue(longs(s.get("mailboxBacklog")).stream().allMatch(v -> v == 9), "the larger of each pair");
        assertTrue(longs(s.get("latencies").get("swapIn").get("p50Nanos")).stream().allMatch(v -> v == 50),
                "a bucket with one interval of data has that interval's percentile");
    }

    @Test
    void theHeaderCarriesTheBuildTheCommandAndALinkToTheTraceBesideThePage() throws Exception {
        ObjectNode report = JSON.createObjectNode().put("version", "1.2.3");
        Path page = Path.of("out", "dir", "r.html").toAbsolutePath();
        String html = HtmlReport.render(report, List.of(), new HtmlReport.Provenance("1.2.3", "abc1234", null,
                Instant.parse("2024-05-06T07:08:09.5Z"), "vcpu-emu run x.conf", null,
                Path.of("out", "trace files", "t#1.json")), page);
        JsonNode run = data(html).get("run");
        assertEquals("abc1234", run.get("commit").asText());
        assertEquals("2024-05-06T07:08:09 UTC", run.get("written").asText());
        assertEquals("vcpu-emu run x.conf", run.get("commandLine").asText());
        assertFalse(run.has("replay"), "no replay command given, none shown");
        assertFalse(run.has("built"));
        assertEquals("../trace%20files/t%231.json", run.get("traceHref").asText());
    }

    @Test
    void aPageFromTheReportAloneShowsItsVersionAndNoCommandLine() throws Exception {
        String html = HtmlReport.render(JSON.createObjectNode().put("version", "9.9"), List.of());
        JsonNode run = data(html).get("run");
        assertEquals("9.9", run.get("version").asText());
        assertFalse(run.has("commandLine") || run.has("traceHref"), run.toString());
        // The build's own commit, when the build wrote one (a Maven build in a git checkout does).
        assertEquals(String.valueOf(HtmlReport.buildCommit()), run.path("commit").asText("null"), run.toString());
    }

    private static JsonNode data(String html) throws Exception {
        String start = "<script type=\"application/json\" id=\"data\">";
        int from = html.indexOf(start) + start.length();
        return JSON.readTree(html.substring(from, html.indexOf("</script>", from)).replace("<\\/", "</"));
    }

    private static List<Long> longs(JsonNode array) {
        List<Long> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asLong()));
        return out;
    }
}
