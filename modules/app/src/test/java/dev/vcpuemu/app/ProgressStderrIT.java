package dev.vcpuemu.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With stderr a file, a normal run writes nothing there but plain progress lines: no logging
 * set-up noise (SLF4J's replay warnings), no progress bar frames (carriage returns), and the
 * last line is the run's end at 100 %.
 */
class ProgressStderrIT {
    private static final Path JAR = Path.of(System.getProperty("vcpuemu.jar", "target/vcpu-emu.jar"));
    /** " 50% [   1.0s] sim    19.78 ms | … | findings 0", as {@code ProgressDisplay} prints it. */
    private static final Pattern PROGRESS_LINE = Pattern.compile(
            " {0,2}\\d{1,3}% \\[ *\\d+\\.\\ds] sim +\\d+\\.\\d\\d ms \\| .* uops/s \\| .* msg/s \\| .*\\| findings \\d+");

    @TempDir
    Path tmp;

    private String stderrOf(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (Runtime.version().feature() >= 23) {
            // From Java 24 the JVM itself warns on stderr that Pekko calls sun.misc.Unsafe (JEP 498):
            // its lines, not ours; the README gives users the same option.
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        Path err = tmp.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectOutput(tmp.resolve("stdout.txt").toFile())
                .redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the run ends on its own");
        assertEquals(0, p.exitValue(), Files.readString(err));
        return Files.readString(err);
    }

    private static void assertOnlyProgressLines(String err) {
        assertFalse(err.contains("\r"), "no progress bar frames in a file: " + err);
        assertFalse(err.contains("SLF4J"), "no logging set-up noise: " + err);
        List<String> lines = err.lines().toList();
        assertFalse(lines.isEmpty(), "progress is shown");
        for (String line : lines) {
            assertTrue(PROGRESS_LINE.matcher(line).matches(), "only plain progress lines: [" + line + "] in\n" + err);
        }
        assertTrue(lines.get(lines.size() - 1).startsWith("100% "), "the last line is the run's end: " + err);
    }

    @Test
    void concurrentRunWritesOnlyPlainProgressLinesToStderr() throws Exception {
        assertOnlyProgressLines(stderrOf("run", "--duration", "2s", "--report", ""));
    }

    @Test
    void deterministicRunWritesOnlyPlainProgressLinesToStderr() throws Exception {
        String err = stderrOf("run", "--engine", "deterministic", "--duration", "50ms", "--report", "");
        assertOnlyProgressLines(err);
        assertEquals(10, err.lines().count(), "a deterministic run samples each tenth: a line each: " + err);
    }
}
