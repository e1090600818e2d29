package dev.vcpuemu.app.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.app.report.HtmlReport;
import dev.vcpuemu.app.report.IntervalLine;
import dev.vcpuemu.app.report.Report;
import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.sim.LatencyRecorders;
import dev.vcpuemu.model.stats.LatencyKind;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import dev.vcpuemu.model.settings.Settings;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * What a soak leaves in its directory at every interval: {@code report.json}, a checkpoint with
 * the schema of {@code run}'s report, replaced atomically (temporary file, then rename), one
 * line appended to {@code intervals.jsonl} (that interval's counters, findings, latency
 * percentiles, rates, live heap after a full GC) and that interval's latency histograms appended
 * to {@code latency.hlog} (HdrHistogram's log format, one tagged histogram per kind), and
 * {@code report.html} redrawn from the checkpoint and the interval lines. A
 * {@code kill -9} at any moment leaves the last complete checkpoint and every complete line:
 * only the current interval is lost.
 *
 * <p>Progress samples arrive on the simulation's stats collector; the files are written on a
 * thread of their own, so no actor ever blocks on the disk. Memory is bounded: only the
 * previous sample and a fixed summary of the heap trend are kept, whatever the duration.
 */
public final class SoakLog implements AutoCloseable {
    public static final String REPORT = "report.json";
    public static final String INTERVALS = "intervals.jsonl";
    public static final String HLOG = "latency.hlog";
    public static final String HTML = "report.html";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP).map(p -> p.getName()).collect(Collectors.toSet());

    private final Path dir;
    private final String source;
    private final String engine;
    private final String version;
    private final Settings settings;
    private final int actors;
    private final BufferedWriter intervals;
    private final PrintStream hlogStream;
    private final HistogramLogWriter hlog;
    private final Map<LatencyKind, Histogram> latencyTotals = new EnumMap<>(LatencyKind.class);
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vcpu-emu-soak-writer");
        t.setDaemon(true);
        return t;
    });
    private final HeapTrend heap = new HeapTrend();
    private Progress previous;
    private long interval;
    private volatile IOException failure;

    /** Opens (appending) the interval log in {@code dir}, which must exist. */
    public SoakLog(Path dir, String source, String engine, String version, Settings settings, int actors)
            throws IOException {
        this.dir = dir;
        this.source = source;
        this.engine = engine;
        this.version = version;
        this.settings = settings;
        this.actors = actors;
        this.intervals = Files.newBufferedWriter(dir.resolve(INTERVALS), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.hlogStream = new PrintStream(Files.newOutputStream(dir.resolve(HLOG), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), false, StandardCharsets.UTF_8);
        this.hlog = new HistogramLogWriter(hlogStream);
        hlog.outputComment("vcpu-emu soak of " + source + ": latencies in virtual nanoseconds, one tag per kind");
        hlog.outputLogFormatVersion();
        hlog.outputLegend();
        hlogStream.flush();
        for (LatencyKind k : LatencyKind.values()) {
            latencyTotals.put(k, LatencyRecorders.total());
        }
    }

    /** A progress sample from the run: queued for the writer thread. */
    public void accept(Progress p) {
        writer.execute(() -> {
            try {
                write(p);
            } catch (IOException e) {
                failure = e;
            }
        });
    }

    private void write(Progress p) throws IOException {
        interval++;
        long heapAfterGc = liveHeap();
        heap.add(p.wallSeconds(), heapAfterGc);

        ObjectNode line = IntervalLine.of(interval, p, previous);
        double start = previous == null ? 0 : previous.wallSeconds();
        for (Map.Entry<LatencyKind, Histogram> e : p.intervalLatencies().entrySet()) {
            Histogram h = e.getValue();
            latencyTotals.get(e.getKey()).add(h);
            if (h.getTotalCount() > 0) {
                h.setTag(e.getKey().key);
                hlog.outputIntervalHistogram(start, p.wallSeconds(), h);
            }
        }
        hlogStream.flush();
        line.put("heapAfterGcBytes", heapAfterGc);
        line.put("heapUsedBytes", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        line.put("actors", actors);
        line.put("mailboxBacklog", p.mailboxBacklog());
        line.put("mailboxBacklogMax", p.mailboxBacklogMax());
        intervals.write(JSON.writeValueAsString(line));
        intervals.newLine();
        intervals.flush();
        previous = p;

        // A checkpoint is judged on findings only: conservation is checked once, at the end.
        Map<String, LatencySummary> totals = new LinkedHashMap<>();
        latencyTotals.forEach((k, h) -> totals.put(k.key, LatencySummary.of(h)));
        RunResult r = new RunResult(p.wallSeconds(), p.simulatedNanos(), p.counters(), p.findingsByKind(),
                p.findingExamples(), new RunResult.Conservation(false, "checked at the end of the run"), "running",
                null, null, -1, null, totals, List.of(), Map.of());
        Settings.Expect e = settings.expect();
        Expectations judged = Expectations.judge(new Settings.Expect(e.present(), e.absent(), e.detailContains(), false), r);
        ObjectNode report = Report.build("soak", engine, version, source, settings, r, judged);
        report.put("checkpoint", true);
        report.set("soak", summary());
        Report.write(dir.resolve(REPORT), report);
        HtmlReport.write(dir.resolve(HTML), report, intervalLines());
    }

    /** Every complete interval line written so far, read back from the file: nothing is kept in memory. */
    public List<JsonNode> intervalLines() throws IOException {
        return HtmlReport.readLines(dir.resolve(INTERVALS));
    }

    /** Waits for every queued sample to be written; the first write failure, if any, is thrown. */
    public void drain() throws IOException, InterruptedException {
        try {
            writer.submit(() -> { }).get();
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The soak block of a report: intervals written and the heap trend. */
    public ObjectNode summary() {
        ObjectNode soak = JSON.createObjectNode();
        soak.put("intervals", interval);
        soak.put("intervalSeconds", settings.run().progressInterval().toNanos() / 1e9);
        soak.set("heapAfterGc", heap.toJson(JSON));
        return soak;
    }

    public String heapTrendLine() {
        return heap.describe();
    }

    @Override
    public void close() throws IOException {
        writer.shutdown();
        try {
            writer.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        intervals.close();
        hlogStream.close();
    }

    /**
     * The heap the run keeps alive: a full collection, then the heap in use right after it.
     * Why force it: after a young collection G1 still counts every old-generation object that
     * died since the last mixed or full one, so that figure climbs for minutes between
     * concurrent cycles and a trend over it reports a leak where there is none (seen here: +0.9
     * MiB per 30 s for 270 s, while {@code jmap -histo:live} stayed flat). One full collection
     * of a heap this size costs milliseconds per interval; with {@code -XX:+DisableExplicitGC}
     * this falls back to the most recent collection of any kind.
     */
    static long liveHeap() {
        System.gc();
        return heapAfterLastGc();
    }

    /** Heap in use right after the most recent garbage collection, from the collectors' record. */
    static long heapAfterLastGc() {
        long latestEnd = -1;
        long used = -1;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof com.sun.management.GarbageCollectorMXBean g && g.getLastGcInfo() != null
                    && g.getLastGcInfo().getEndTime() > latestEnd) {
                latestEnd = g.getLastGcInfo().getEndTime();
                Map<String, MemoryUsage> after = g.getLastGcInfo().getMemoryUsageAfterGc();
                used = after.entrySet().stream().filter(x -> HEAP_POOLS.contains(x.getKey()))
                        .mapToLong(x -> x.getValue().getUsed()).sum();
            }
        }
        return used >= 0 ? used : ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * First, last, largest and the least-squares slope of the live heap over wall time; O(1)
     * memory. The slope leaves out the first sample: that interval holds start-up (class
     * loading, JIT, pools filling), a one-off step that would read as growth in a short soak.
     */
    static final class HeapTrend {
        /** Fewer samples than this say more about start-up than about a trend. */
        static final int MIN_TREND_SAMPLES = 10;

        private long n;
        private long m;
        private double sumT;
        private double sumH;
        private double sumTT;
        private double sumTH;
        private long first = -1;
        private long last;
        private long max;

        void add(double seconds, long bytes) {
            n++;
            if (first < 0) {
                first = bytes;
            } else {
                m++;
                sumT += seconds;
                sumH += bytes;
                sumTT += seconds * seconds;
                sumTH += seconds * bytes;
            }
            last = bytes;
            max = Math.max(max, bytes);
        }

        double slopeBytesPerHour() {
            double d = m * sumTT - sumT * sumT;
            return m < 2 || d == 0 ? 0 : (m * sumTH - sumT * sumH) / d * 3600;
        }

        ObjectNode toJson(ObjectMapper json) {
            ObjectNode h = json.createObjectNode();
            h.put("samples", n);
            h.put("firstBytes", Math.max(0, first));
            h.put("lastBytes", last);
            h.put("maxBytes", max);
            h.put("slopeBytesPerHour", slopeBytesPerHour());
            h.put("slopeSamples", m);
            return h;
        }

        String describe() {
            if (n == 0) {
                return "no interval completed, so no heap sample";
            }
            String trend = n < MIN_TREND_SAMPLES ? "too few samples for a trend"
                    : String.format("trend %+,.0f KiB/hour (least squares after the first)", slopeBytesPerHour() / 1024);
            return String.format("live heap after a full GC: first %,d KiB, last %,d KiB, max %,d KiB, %s over %d samples",
                    Math.max(0, first) >> 10, last >> 10, max >> 10, trend, n);
        }
    }
}
