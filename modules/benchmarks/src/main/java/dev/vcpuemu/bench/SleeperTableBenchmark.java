package dev.vcpuemu.bench;

import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The guest's sleeper table, which every async fault goes through twice (the wait and the
 * wake, each under its bucket lock) and which all vCPUs of a guest share: time per pair.
 * {@link #waitThenWake} is the usual order (the waiter's node is inserted, then found and
 * unhashed by the wake); {@link #wakeThenWait} is the wake-before-wait race (the wake leaves a
 * dummy, which the wait finds and frees). {@code sleepers} is how many other nodes (of another
 * vCPU) the 256 buckets already hold, so that lookups walk longer chains.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SleeperTableBenchmark {
    private static final int CPU = 0;
    private static final int OTHER_CPU = 1;
    private static final int TOKENS = 1024;

    @Param({"0", "256", "4096"})
    public int sleepers;

    private SleeperTable table;
    private final int[] tokens = new int[TOKENS];
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        table = new SleeperTable();
        for (int id = 1; id <= sleepers; id++) {
            int token = (id << 12) | OTHER_CPU;
            table.insert(SleeperTable.bucket(token), SleeperNode.waiter(token, OTHER_CPU, 0, false, 0));
        }
        for (int id = 1; id <= TOKENS; id++) {
            tokens[id - 1] = (id << 12) | CPU;
        }
    }

    @Benchmark
    public SleeperNode waitThenWake() {
        int token = nextToken();
        int bucket = SleeperTable.bucket(token);
        lock(bucket);
        if (table.find(bucket, token) != null) {
            throw new IllegalStateException("a node for token " + token + " was left behind");
        }
        SleeperNode waiter = SleeperNode.waiter(token, CPU, 0, false, 0);
        table.insert(bucket, waiter);
        table.unlock(bucket, CPU);

        lock(bucket);
        SleeperNode found = table.find(bucket, token);
        table.unlink(bucket, found);
        table.unlock(bucket, CPU);
        return found;
    }

    @Benchmark
    public SleeperNode wakeThenWait() {
        int token = nextToken();
        int bucket = SleeperTable.bucket(token);
        lock(bucket);
        if (table.find(bucket, token) != null) {
            throw new IllegalStateException("a node for token " + token + " was left behind");
        }
        table.insert(bucket, SleeperNode.dummy(token, CPU, 0));
        table.unlock(bucket, CPU);

        lock(bucket);
        SleeperNode dummy = table.find(bucket, token);
        table.unlink(bucket, dummy);
        table.unlock(bucket, CPU);
        return dummy;
    }

    private int nextToken() {
        int token = tokens[next];
        next = (next + 1) % TOKENS;
        return token;
    }

    private void lock(int bucket) {
        if (!table.tryLock(bucket, CPU)) {
            throw new IllegalStateException("bucket " + bucket + " is held");
        }
    }
}
