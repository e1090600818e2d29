package dev.vcpuemu.app.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two reports side by side: the rows, their differences, and the one-line problems. */
class ComparisonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Comparison.Side side(String label, String json) throws Exception {
        return new Comparison.Side(label, Path.of(label + ".json"), JSON.readTree(json));
    }

    private static Comparison.Row row(Comparison c, String section, String name) {
        return c.sections().stream().filter(s -> s.title().startsWith(section)).flatMap(s -> s.rows().stream())
                .filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    @Test
    void reportsAreComparedNumberByNumberWithAbsoluteAndRelativeDifferences() throws Exception {
        Comparison c = Comparison.of(
                side("A", "{\"schema\":1,\"command\":\"run\",\"wallSeconds\":2.0,\"counters\":{\"microOps\":1000,\"nmisLost\":0},"
                        + "\"findings\":{\"APF_WORD_STOLEN\":4,\"NESTED_NMI\":0},"
                        + "\"latencies\":{\"taskSleep\":{\"count\":10,\"p50Nanos\":2000,\"p99Nanos\":8000}}}"),
                side("B", "{\"schema\":1,\"command\":\"run\",\"wallSeconds\":2.0,\"counters\":{\"microOps\":1500,\"nmisLost\":0},"
                        + "\"findings\":{\"APF_WORD_STOLEN\":0,\"NESTED_NMI\":0},"
                        + "\"latencies\":{\"taskSleep\":{\"count\":10,\"p50Nanos\":3000,\"p99Nanos\":6000}}}"));
        Comparison.Row ops = row(c, "counters", "microOps");
        assertEquals(500.0, ops.difference());
        assertEquals(0.5, ops.relative());
        assertNull(row(c, "counters", "nmisLost"), "a counter 0 on both sides is left out");
        Comparison.Row stolen = row(c, "findings", "APF_WORD_STOLEN");
        assertEquals(-4.0, stolen.difference());
        assertEquals(-1.0, stolen.relative());
        assertNull(row(c, "findings", "NESTED_NMI"));
        Comparison.Row p99 = row(c, "latencies", "taskSleep p99");
        assertEquals(8.0, p99.a(), "in microseconds");
        assertEquals(-0.25, p99.relative());
        String text = c.text();
        assertTrue(text.contains("microOps") && text.contains("+500") && text.contains("+50.0 %"), text);
        assertTrue(text.contains("-100.0 %"), text);
        String html = c.html();
        assertTrue(html.contains("<td>taskSleep p50</td>") && html.contains("+50.0 %"), html);
    }

    @Test
    void benchResultsAreComparedSizeBySizeAndNotWithReports() throws Exception {
        String bench = "{\"schema\":1,\"command\":\"bench\",\"sizes\":[{\"vcpus\":64,\"phases\":{\"rawConcurrent\":"
                + "{\"messagesPerSecond\":%d}},\"ratios\":{\"concurrent\":%s}}]}";
        Comparison c = Comparison.of(side("A", String.format(bench, 2_000_000, "0.5")),
                side("B", String.format(bench, 3_000_000, "0.6")));
        assertEquals(1.0, row(c, "64 vCPUs", "rawConcurrent M msg/s").difference(), 1e-9);
        assertEquals(10.0, row(c, "64 vCPUs", "ratio concurrent %").difference(), 1e-9);
        Comparison.Problem p = assertThrows(Comparison.Problem.class,
                () -> Comparison.of(side("A", String.format(bench, 1, "1")), side("B", "{\"schema\":1,\"command\":\"run\"}")));
        assertEquals("cannot compare a bench result with a run report: A.json is a bench result, B.json a report",
                p.getMessage());
    }

    @Test
    void benchResultsCompareExploreRunsPerSecondWhenBothMeasuredIt() throws Exception {
        String bench = "{\"schema\":1,\"command\":\"bench\",\"sizes\":[]%s}";
        String explore = ",\"explore\":{\"name\":\"explore, 1 vCPU, 1 ms runs\",\"runsPerSecond\":%d}";
        Comparison c = Comparison.of(side("A", String.format(bench, String.format(explore, 100))),
                side("B", String.format(bench, String.format(explore, 150))));
        Comparison.Row runs = row(c, "explore, 1 vCPU", "runs/s");
        assertEquals(50.0, runs.difference(), 1e-9);
        assertEquals(0.5, runs.relative(), 1e-9);
        Comparison without = Comparison.of(side("A", String.format(bench, String.format(explore, 100))),
                side("B", String.format(bench, "")));
        assertNull(row(without, "explore", "runs/s"), "one side did not measure explore: no row");
    }

    @Test
    void aMissingFileOrOneThatIsNoReportIsAOneLineProblem() throws Exception {
        Path runs = tmp.resolve("runs");
        Comparison.Problem missing = assertThrows(Comparison.Problem.class, () -> Comparison.locate("latest", runs));
        assertEquals("latest: no such report file or run directory (no run has been stored in " + runs + "/ yet)",
                missing.getMessage());
        Path junk = tmp.resolve("junk.json");
        Files.writeString(junk, "not json\nat all");
        Comparison.Problem notJson = assertThrows(Comparison.Problem.class, () -> Comparison.read(junk));
        assertTrue(notJson.getMessage().startsWith(junk + ": not a vcpu-emu report: "), notJson.getMessage());
        assertEquals(1, notJson.getMessage().lines().count(), notJson.getMessage());
        Path other = tmp.resolve("other.json");
        Files.writeString(other, "{\"a\": 1}");
        assertEquals(other + ": not a vcpu-emu report (no schema and command fields)",
                assertThrows(Comparison.Problem.class, () -> Comparison.read(other)).getMessage());
        Files.createDirectories(tmp.resolve("empty-run"));
        assertTrue(assertThrows(Comparison.Problem.class, () -> Comparison.locate(tmp.resolve("empty-run").toString(), runs))
                .getMessage().contains("no report.json in run directory"));
        JsonNode ok = JSON.readTree("{\"schema\":1,\"command\":\"run\"}");
        Files.writeString(tmp.resolve("ok.json"), ok.toString());
        assertEquals(ok, Comparison.read(tmp.resolve("ok.json")));
    }
}
