package dev.vcpuemu.app;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * hold the charts' SVG. Without a browser the test is skipped, unless
 * {@code VCPUEMU_REQUIRE_BROWSER} is set (CI), where a missing browser fails it.
 */
class HtmlReportIT {
    private static final Path JAR = Path.of(System.getProperty("vcpuemu.jar", "target/vcpu-emu.jar"));
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

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

    private static void assertDrawn(Rendered r, int charts, List<String> ids) {
        Matcher body = Pattern.compile("<body([^>]*)>").matcher(r.dom());
        assertTrue(body.find(), "a body in the rendered DOM");
        assertFalse(body.group(1).contains("data-errors"), "script errors: " + body.group(1));
        assertTrue(body.group(1).contains("data-rendered=\"" + charts + "\""), body.group(1));
        assertFalse(r.console().contains("Uncaught"), r.console());
        for (String id : ids) {
            assertTrue(Pattern.compile("id=\"" + id + "\"><svg[^>]*>.*?<(rect|path) ", Pattern.DOTALL).matcher(r.dom()).find(),
                    id + " holds a drawn SVG chart");
        }
    }

    private static int count(String dom, String needle) {
        return dom.split(Pattern.quote(needle), -1).length - 1;
    }

    @Test
    void aRunWithFindingsRendersItsChartsAndExampleWindows() throws Exception {
        needBrowser();
        // The legacy NMI storm finds its hazard within 20 ms at seed 42 (reference §4(i)); progress every tenth.
        int exit = vcpuEmu("run", CONF.resolve("scenarios/hazard-i-nmi-window.conf").toAbsolutePath().toString(), "--engine",
                "deterministic", "--duration", "20ms", "--report", "r.json", "--html", "r.html");
        assertEquals(0, exit, Files.readString(tmp.resolve("vcpu-emu.out")));
        Rendered r = render(tmp.resolve("r.html"));
        assertDrawn(r, 4, List.of("chart-throughput", "chart-findings", "chart-latency", "chart-vcpu-time"));
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
        assertDrawn(r, 5, List.of("chart-throughput", "chart-findings", "chart-latency", "chart-vcpu-time", "chart-heap"));
        assertTrue(r.dom().contains("No findings."), "the default topology has none");
    }
}
