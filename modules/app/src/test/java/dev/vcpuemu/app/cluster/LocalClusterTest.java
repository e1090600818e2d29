package dev.vcpuemu.app.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which of the coordinator's JVM options a local cluster's nodes are started with. */
class LocalClusterTest {
    @Test
    void nodesTakeTheHeapTheCollectorTheUnsafeOptionAndTheTemporaryDirectoryAndNothingElse() {
        List<String> coordinator = List.of("-Xmx4g", "-Xms1g", "-XX:+UseParallelGC", "-XX:MaxGCPauseMillis=50",
                "--sun-misc-unsafe-memory-access=allow", "-Djava.io.tmpdir=/scratch/t", "-Dconfig.file=a.conf",
                "-agentlib:jdwp=transport=dt_socket", "-Xlog:gc");
        assertEquals(List.of("-Xmx4g", "-Xms1g", "-XX:+UseParallelGC", "--sun-misc-unsafe-memory-access=allow",
                "-Djava.io.tmpdir=/scratch/t"), LocalCluster.forwarded(coordinator));
    }
}
