package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.run.RunResult;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The recorded trace hashes of every topology in {@code conf/} and {@code conf/scenarios/}:
 * seeds 1–5 on the deterministic engine, each at the file's own mailbox throughput and at 1,
 * 20 ms of virtual time each. A change that means to keep behaviour (a refactoring of the
 * model, a new package layout) must leave every row as it is; a change that means to alter
 * behaviour records the table again and says so in its commit:
 *
 * <pre>mvn -pl modules/app test -Dtest=TraceHashTableTest -Dvcpuemu.record-hashes=true</pre>
 *
 * A row is {@code file seed throughput hash endReason simulatedNanos}; the hash covers every
 * message each actor received and every vCPU event with its virtual time and argument
 * (DESIGN §3, the report's {@code traceHash}).
 */
class TraceHashTableTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));
    private static final Path TABLE = Path.of("src/test/resources/trace-hashes.tsv");
    private static final String DURATION = "20ms";

    @Test
    void everyRecordedHashIsReproduced() throws Exception {
        List<String> rows = new ArrayList<>();
        for (Path file : topologies()) {
            String name = CONF.relativize(file).toString().replace('\\', '/');
            for (String throughput : List.of("file", "1")) {
                List<String> sets = new ArrayList<>(List.of("run.duration=" + DURATION, "run.report=\"\""));
                if (!throughput.equals("file")) {
                    sets.add("engine.mailbox-throughput=" + throughput);
                }
                DeterministicRunner runner = new DeterministicRunner(Optional.of(file), sets);
                for (long seed = 1; seed <= 5; seed++) {
                    RunResult r = DeterministicRunner.run(runner.load(seed, List.of()), StrategySpec.random(), null,
                            Long.MAX_VALUE, null, null, null, p -> { });
                    rows.add(String.join("\t", name, Long.toString(seed), throughput, r.traceHash(),
                            r.endReason().replace('\t', ' '), Long.toString(r.simulatedNanos())));
                }
            }
        }
        String actual = String.join("\n", rows) + "\n";
        if (Boolean.getBoolean("vcpuemu.record-hashes")) {
            Files.writeString(TABLE, actual, StandardCharsets.UTF_8);
            return;
        }
        assertEquals(Files.readString(TABLE, StandardCharsets.UTF_8), actual,
                "trace hashes differ from the recorded table " + TABLE
                        + " (if the change means to alter behaviour, record it again: see this class)");
    }

    private static List<Path> topologies() throws IOException {
        try (Stream<Path> files = Files.walk(CONF)) {
            return files.filter(f -> f.toString().endsWith(".conf")).sorted().toList();
        }
    }
}
