package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.det.Tally;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * The bookkeeping of an explore farm's search, with no actor in it ({@link Farm} is its shell):
 * which runs went out in which range, which came back, the nodes and what they ran, the failing
 * runs, and when the search is over. Tested by scripted event orders ({@code FarmLedgerTest}).
 *
 * <p>The rule that makes a farm's answer one JVM's: ranges go out in index order, and a failing
 * run at index {@code f} stops only the runs from {@code f} on. Every run below {@code f} was
 * handed out before it and still runs, so the failing run reported, the lowest, does not depend
 * on which node was quickest (on one JVM, every run below a failing one was launched before it).
 */
final class FarmLedger {
    /** How long a range should take, at the speed seen so far. */
    static final double RANGE_SECONDS = 0.5;
    static final long MAX_RANGE = 256;

    private final long runs;
    private final Tally tally;
    private final Map<String, Farm.Node> nodes = new TreeMap<>();
    private final Map<Long, Farm.Range> outstanding = new TreeMap<>();
    private final Set<Long> ran = new HashSet<>();
    private final TreeMap<Long, Farm.FailedRun> failures = new TreeMap<>();
    private long next;
    private double secondsPerRun = Double.NaN;
    private boolean started;
    private boolean stopping;
    private long below = Long.MAX_VALUE;
    private String error;

    /** @param tally where finished runs are counted (read by the progress display) */
    FarmLedger(long runs, Tally tally) {
        this.runs = runs;
        this.tally = tally;
    }

    /** A node of the right build joined. */
    void join(String node, long pid, int threads) {
        nodes.put(node, new Farm.Node(node, pid, threads, 0));
    }

    int nodes() {
        return nodes.size();
    }

    /** The nodes awaited are there (or the wait is over): ranges may go out. */
    void begin() {
        started = true;
    }

    boolean started() {
        return started;
    }

    /**
     * The next range for a thread that asked, or null when none is due (not begun, stopped, all
     * out). Its size is what takes about {@link #RANGE_SECONDS} at the speed seen so far (1 at
     * first).
     */
    Farm.Range take() {
        if (!started || stopping || next >= runs) {
            return null;
        }
        long size = Double.isNaN(secondsPerRun) ? 1
                : Math.max(1, Math.min(MAX_RANGE, Math.round(RANGE_SECONDS / Math.max(1e-6, secondsPerRun))));
        Farm.Range r = new Farm.Range(next, Math.min(size, runs - next));
        next += r.count();
        outstanding.put(r.from(), r);
        return r;
    }

    /**
     * A range came back. Returns the index from which nodes must now launch no run, when that
     * bound was lowered (a failing run below every earlier one, or an error: 0).
     */
    OptionalLong done(Farm.RangeDone d) {
        if (d.range() != null) {
            outstanding.remove(d.range().from());
            // Delivery is at least once: a node lost between reporting a range and confirming it has
            // its range run again elsewhere. Count a range once.
            if (!ran.add(d.range().from())) {
                return OptionalLong.empty();
            }
        }
        tally.add(d.ran());
        nodes.computeIfPresent(d.node(), (k, v) -> new Farm.Node(v.address(), v.pid(), v.threads(),
                v.runs() + d.ran().runs()));
        if (d.ran().runs() > 0) {
            double perRun = d.wallSeconds() / d.ran().runs();
            secondsPerRun = Double.isNaN(secondsPerRun) ? perRun : 0.7 * secondsPerRun + 0.3 * perRun;
        }
        OptionalLong stop = OptionalLong.empty();
        if (d.failure() != null) {
            failures.put(d.failure().index(), d.failure());
            stop = stop(d.failure().index());
        }
        if (d.error() != null && error == null) {
            error = "node " + d.node() + ": " + d.error();
            stop = stop(0);
        }
        return stop;
    }

    /** The time limit or the user: no run at all from now on. */
    OptionalLong halt() {
        return stop(0);
    }

    private OptionalLong stop(long index) {
        stopping = true;
        if (index < below) {
            below = index;
            return OptionalLong.of(index);
        }
        return OptionalLong.empty();
    }

    /** Whether ranges have stopped going out; then {@link #below()} is the bound nodes were told. */
    boolean stopping() {
        return stopping;
    }

    long below() {
        return below;
    }

    /** Over when nothing is left to hand out (or the search stopped) and no range is under way. */
    boolean over() {
        return (stopping || next >= runs) && outstanding.isEmpty();
    }

    int failing() {
        return failures.size();
    }

    /** The lowest failing run, or null. */
    Farm.FailedRun failure() {
        return failures.isEmpty() ? null : failures.firstEntry().getValue();
    }

    /** The first error a node reported, or null. */
    String error() {
        return error;
    }

    List<Farm.Node> nodeTable() {
        return new ArrayList<>(nodes.values());
    }
}
