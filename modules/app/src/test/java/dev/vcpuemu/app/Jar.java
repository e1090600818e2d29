package dev.vcpuemu.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The built jar as the integration tests run it: a fresh JVM working in a directory of the
 * test's, its standard output and error in {@code stdout.txt} and {@code stderr.txt} there.
 */
final class Jar {
    static final Path PATH = Path.of(System.getProperty("vcpuemu.jar", "target/vcpu-emu.jar")).toAbsolutePath();

    /** How a command ended: its exit code and what it wrote. */
    record Outcome(int exit, String out, String err) {}

    private Jar() {
    }

    /** The command, ready to start in {@code dir}. */
    static ProcessBuilder command(Path dir, String... args) throws IOException {
        return command(dir, List.of(), args);
    }

    /**
     * The command with JVM options ({@code -Xmx1g}), ready to start in {@code dir}. Its temporary
     * files go to {@code dir/tmp} (and a local cluster's nodes', which the tests kill, with them):
     * the test's own folder, removed with it.
     */
    static ProcessBuilder command(Path dir, List<String> jvm, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp")));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-jar", PATH.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(dir.resolve("stderr.txt").toFile());
    }

    /** A background job of a non-interactive shell ignores SIGINT, and so would the jar it starts. */
    static void assumeSigintReaches(Process p) throws IOException {
        String status = Files.readString(Path.of("/proc", Long.toString(p.pid()), "status"));
        long ignored = status.lines().filter(l -> l.startsWith("SigIgn:")).findFirst()
                .map(l -> Long.parseUnsignedLong(l.substring("SigIgn:".length()).strip(), 16)).orElse(0L);
        assumeFalse((ignored & 0x2) != 0, "this test JVM was started with SIGINT ignored");
    }

    /** Runs the command in {@code dir} to its end (at most two minutes). */
    static Outcome run(Path dir, String... args) throws IOException, InterruptedException {
        Process p = command(dir, args).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the command ends on its own: " + List.of(args));
        return new Outcome(p.exitValue(), Files.readString(dir.resolve("stdout.txt")),
                Files.readString(dir.resolve("stderr.txt")));
    }
}
