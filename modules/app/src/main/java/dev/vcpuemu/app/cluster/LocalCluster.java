package dev.vcpuemu.app.cluster;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The worker JVMs of {@code --local-cluster K}: K - 1 processes of this very program (the same
 * jar, or the same class path when run from a build tree), each {@code node --join}ing the
 * coordinator on this machine. Each writes its output to a log file of its own. They end when
 * the coordinator dismisses them, or when they lose it; {@link #end} waits for that and
 * stops what is still running after the wait, so that no JVM outlives the search.
 */
public final class LocalCluster {
    private final List<Process> processes = new ArrayList<>();

    /**
     * Starts {@code workers} worker JVMs joining {@code seed} (host:port), {@code threads} worker
     * threads each, the output of worker {@code i} in {@code logDir/node-i.log}.
     */
    public LocalCluster(int workers, String bindHost, String seed, int threads, Path logDir) throws IOException {
        try {
            for (int i = 1; i <= workers; i++) {
                List<String> cmd = new ArrayList<>(javaCommand());
                cmd.addAll(List.of("node", "--join", seed, "--bind", bindHost, "--parallelism", String.valueOf(threads)));
                Path log = logDir.resolve("node-" + i + ".log");
                processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
            }
        } catch (IOException e) {
            // The ones started must not outlive a search that will not run.
            processes.forEach(Process::destroyForcibly);
            throw e;
        }
    }

    /**
     * How this JVM was started, up to its arguments: java, the options a node takes over
     * ({@link #forwarded}), and the jar or class path.
     */
    static List<String> javaCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        cmd.addAll(forwarded(ManagementFactory.getRuntimeMXBean().getInputArguments()));
        Path code = codeSource();
        if (code != null && code.toString().endsWith(".jar")) {
            cmd.addAll(List.of("-jar", code.toString()));
        } else {
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.vcpuemu.app.Main"));
        }
        return cmd;
    }

    /**
     * Of this JVM's options, those its nodes are started with: heap and collector options, the
     * option that silences Java 24's warning about Pekko's use of sun.misc.Unsafe, and the
     * temporary directory (where a node keeps its copy of the job's files, and leaves it if it is
     * killed).
     */
    static List<String> forwarded(List<String> jvmOptions) {
        return jvmOptions.stream().filter(arg -> arg.startsWith("-Xmx") || arg.startsWith("-Xms")
                || arg.startsWith("-XX:+Use") || arg.startsWith("--sun-misc-unsafe-memory-access=")
                || arg.startsWith("-Djava.io.tmpdir=")).toList();
    }

    private static Path codeSource() {
        try {
            return Path.of(LocalCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Waits up to {@code grace} for the workers to end, then asks those still running to stop
     * (SIGTERM), and after 5 s more kills what is left: no JVM outlives the search.
     */
    public void end(Duration grace) throws InterruptedException {
        long deadline = System.nanoTime() + grace.toNanos();
        for (Process p : processes) {
            p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        processes.forEach(Process::destroy);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (Process p : processes) {
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
