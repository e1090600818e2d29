package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTML report as a user opens it: written by the shaded jar, rendered by headless Chromium
 * (Debian's {@code chromium}, which {@code .ci/run} installs), with no network. The page records
 * script errors on its body and says how many charts it drew; the DOM after the scripts ran must
 * hold the charts' SVG, each with both axes titled and round tick values, and the browser must
 * log nothing to its console. Without a browser the test is skipped, unless
 * {@code VCPUEMU_REQUIRE_BROWSER} is set (CI), where a missing browser fails it.
 */
class HtmlReportIT {
    private static final Path JAR = Path.of(System.getProperty("vcpuemu.jar", "target/vcpu-emu.jar"));
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static void needBrowser() {
        boolean required = System.getenv("VCPUEMU_REQUIRE_BROWSER") != null;
        if (required) {
            assertTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is required (VCPUEMU_REQUIRE_BROWSER is set)");
        }
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no " + CHROMIUM + ": the HTML report is not rendered");
    }

    private int vcpuEmu(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("vcpu-emu.out").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ends: " + cmd);
        return p.exitValue();
    }

    private record Rendered(String dom, String console) {}

    /** The DOM after the page's scripts ran, and what the browser logged. */
    private Rendered render(Path html) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        Path dom = tmp.resolve("dom.html");
        Path log = tmp.resolve("chromium.log");
        List<String> cmd = List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                "--dump-dom", html.toUri().toString());
        Process p = new ProcessBuilder(cmd).redirectOutput(dom.toFile()).redirectError(log.toFile()).start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium ends");
        return new Rendered(Files.readString(dom), Files.readString(log));
    }

    private static final Pattern SVG = Pattern.compile("<svg[^>]*>(.*?)</svg>", Pattern.DOTALL);
    private static final Pattern AXIS_TITLE = Pattern.compile("<text class=\"axis-title ([xy])\"[^>]*>([^<]+)</text>");
    private static final Pattern TICK = Pattern.compile("<text class=\"tick ([xy])\"[^>]*>([^<]+)</text>");

    private static void assertDrawn(Rendered r, int charts, List<String> ids) {
        Matcher body = Pattern.compile("<body([^>]*)>").matcher(r.dom());
        assertTrue(body.find(), "a body in the rendered DOM");
        assertFalse(body.group(1).contains("data-errors"), "script errors: " + body.group(1));
        assertTrue(body.group(1).contains("data-rendered=\"" + charts + "\""), body.group(1));
        // Chromium logs every console message (error or not) as "CONSOLE"; the page logs none.
        assertFalse(r.console().contains("CONSOLE"), r.console());
        assertFalse(r.console().contains("Uncaught"), r.console());
        for (String id : ids) {
            assertTrue(Pattern.compile("id=\"" + id + "\"[^>]*>(<div>.*?)?<svg[^>]*>.*?<(rect|path) ", Pattern.DOTALL)
                    .matcher(r.dom()).find(), id + " holds a drawn SVG chart");
        }
        Matcher svg = SVG.matcher(r.dom());
        int seen = 0;
        while (svg.find()) {
            seen++;
            assertAxes(svg.group(1));
        }
        assertEquals(charts, seen, "every chart drawn is an SVG");
    }

    /** Both axes titled, and every numeric axis ticked at round steps (1, 2 or 5 times a power of ten). */
    private static void assertAxes(String chart) {
        Map<String, String> titles = new HashMap<>();
        Matcher t = AXIS_TITLE.matcher(chart);
        while (t.find()) {
            titles.put(t.group(1), t.group(2).trim());
        }
        assertFalse(titles.getOrDefault("x", "").isEmpty(), "an x axis title in " + chart.substring(0, Math.min(300, chart.length())));
        assertFalse(titles.getOrDefault("y", "").isEmpty(), "a y axis title in " + chart.substring(0, Math.min(300, chart.length())));
        Map<String, List<String>> ticks = new HashMap<>();
        Matcher k = TICK.matcher(chart);
        while (k.find()) {
            ticks.computeIfAbsent(k.group(1), a -> new ArrayList<>()).add(k.group(2));
        }
        assertFalse(ticks.isEmpty(), "tick labels on the axes");
        for (List<String> labels : ticks.values()) {
            if (labels.stream().allMatch(l -> l.matches("-?[0-9.]+"))) {
                assertRoundSteps(labels);
            } else {
                // A log axis: "1 µs", "20 ms"; the mantissa is 1, 2 or 5.
                labels.forEach(l -> assertTrue(l.matches("[125]0{0,2} (ns|µs|ms|s)"), "a log tick at 1, 2 or 5: " + l));
            }
        }
    }

    private static void assertRoundSteps(List<String> labels) {
        assertTrue(labels.size() >= 2, "at least two ticks: " + labels);
        BigDecimal step = new BigDecimal(labels.get(1)).subtract(new BigDecimal(labels.get(0)));
        for (int i = 1; i < labels.size(); i++) {
            assertEquals(0, step.compareTo(new BigDecimal(labels.get(i)).subtract(new BigDecimal(labels.get(i - 1)))),
                    "even steps: " + labels);
        }
        // step = m x 10^k: without trailing zeros its unscaled value is m.
        assertTrue(List.of(1, 2, 5).contains(step.stripTrailingZeros().unscaledValue().intValue()),
                "a 1, 2 or 5 step: " + labels);
        assertEquals(0, new BigDecimal(labels.get(0)).remainder(step).signum(), "ticks on multiples of the step: " + labels);
    }

    private static int count(String dom, String needle) {
        return dom.split(Pattern.quote(needle), -1).length - 1;
    }

    @Test
    void aRunWithFindingsRendersItsChartsAndExampleWindows() throws Exception {
        needBrowser();
        // The legacy NMI storm finds its hazard within 20 ms at seed 42 (reference §4(i)); progress every tenth.
        int exit = vcpuEmu("run", CONF.resolve("scenarios/hazard-i-nmi-window.conf").toAbsolutePath().toString(), "--engine",
                "deterministic", "--duration", "20ms", "--report", "r.json", "--html", "r.html", "--trace", "t.json");
        assertEquals(0, exit, Files.readString(tmp.resolve("vcpu-emu.out")));
        Rendered r = render(tmp.resolve("r.html"));
        // Throughput, findings, the run's latencies, one chart per latency kind over time, vCPU time.
        JsonNode report = JSON.readTree(tmp.resolve("r.json").toFile());
        int kinds = 0;
        for (JsonNode l : report.get("latencies")) {
            kinds += l.get("count").asLong() > 0 ? 1 : 0;
        }
        assertDrawn(r, 4 + kinds, List.of("chart-throughput", "chart-findings", "chart-latency", "chart-latency-time",
                "chart-vcpu-time"));
        // The header: build, command line, the command that repeats the run, the timeline linked.
        assertTrue(r.dom().contains("version " + report.get("version").asText()), "the version in the header");
        assertTrue(r.dom().contains("report written 2"), "the date in the header");
        assertTrue(r.dom().contains("hazard-i-nmi-window.conf --engine deterministic --duration 20ms --report r.json --html r.html"
                + " --trace t.json --seed 42</code>"), "the command that repeats the run, its seed pinned");
        assertTrue(r.dom().contains("<a href=\"t.json\">t.json</a>"), "the timeline linked beside the page");
        assertTrue(r.dom().contains(report.get("traceHash").asText()), "the trace hash in the header");
        JsonNode meta = JSON.readTree(tmp.resolve("t.json").toFile()).get("metadata");
        assertEquals(report.get("version").asText(), meta.get("version").asText());
        assertEquals(42, meta.get("seed").asLong());
        assertEquals(report.get("traceHash").asText(), meta.get("traceHash").asText(), "the trace names its run");
        assertTrue(r.dom().contains("APF_WORD_STOLEN"), "the finding kind is listed");
        assertTrue(count(r.dom(), "<details>") >= 1, "finding examples with their event windows");
        assertTrue(r.dom().contains("read-and-clear APF word"), "an example's events are on the page");
    }

    @Test
    void aSoakDirectoryHoldsAPageWithTheHeapChart() throws Exception {
        needBrowser();
        int exit = vcpuEmu("soak", "--duration", "6s", "--interval", "1s", "--out", "soak");
        assertEquals(0, exit, Files.readString(tmp.resolve("vcpu-emu.out")));
        Rendered r = render(tmp.resolve("soak").resolve("report.html"));
        // No findings: one line, not an empty chart; latencies over time per kind; backlog and heap.
        assertTrue(r.dom().contains("<p class=\"note\">No findings.</p>"), "the default topology has none");
        assertTrue(r.dom().contains("<p class=\"empty\">No new finding in any of the"), "a line instead of an empty chart");
        JsonNode report = JSON.readTree(tmp.resolve("soak").resolve("report.json").toFile());
        int kinds = 0;
        for (JsonNode l : report.get("latencies")) {
            kinds += l.get("count").asLong() > 0 ? 1 : 0;
        }
        assertDrawn(r, 5 + kinds, List.of("chart-throughput", "chart-latency", "chart-latency-time", "chart-vcpu-time",
                "chart-backlog", "chart-heap"));
        // (The page's script holds these words too: the rendered SVG text element is what counts.)
        assertTrue(r.dom().contains(">live heap (MiB)</text>"), "the heap's unit on its axis");
        assertTrue(r.dom().contains(">messages waiting in mailboxes</text>"), "the backlog's axis");
        assertTrue(r.dom().contains("soak --duration 6s --interval 1s --out soak</code>"), "the command line in the header");
        assertFalse(r.dom().contains("class=\"sub\">same run again"), "a concurrent soak cannot be repeated exactly");
    }

    @Test
    void aRunThatEndsBeforeItsSecondIntervalSaysSoInsteadOfDrawingEmptyCharts() throws Exception {
        needBrowser();
        // 600 steps end it inside its first interval: the end of the run is its one progress sample.
        int exit = vcpuEmu("run", "--engine", "deterministic", "--duration", "20ms", "--max-steps", "600", "--html", "e.html");
        assertEquals(0, exit, Files.readString(tmp.resolve("vcpu-emu.out")));
        Rendered r = render(tmp.resolve("e.html"));
        assertDrawn(r, 2, List.of("chart-latency", "chart-vcpu-time"));
        for (String id : List.of("chart-throughput", "chart-findings", "chart-latency-time")) {
            assertTrue(Pattern.compile("id=\"" + id + "\"[^>]*><p class=\"empty\">[^<]+</p></div>").matcher(r.dom()).find(),
                    id + " is one line of text");
        }
    }
}
