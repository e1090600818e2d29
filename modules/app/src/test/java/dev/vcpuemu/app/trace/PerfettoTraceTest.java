package dev.vcpuemu.app.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.StrategySpec;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.timeline.Timeline;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.trace.TraceEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timeline file of a deterministic run of the legacy NMI-storm topology (reference §4(i):
 * findings guaranteed within a few simulated milliseconds), read back as JSON and checked for
 * what Perfetto needs and what the issue promises: tracks named per vCPU, task stack, host half
 * and worker; slices that nest on every track; one arrow per token from its not-present to its
 * page-ready; async token spans in pairs; the run's findings marked; the bounds obeyed.
 */
class PerfettoTraceTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private record Run(RunResult result, Timeline timeline, Settings settings) {}

    private static Run run(String duration) throws Exception {
        return run("scenarios/hazard-i-nmi-window.conf", duration);
    }

    private static Run run(String topology, String duration) throws Exception {
        DeterministicRunner runner = new DeterministicRunner(Optional.of(CONF.resolve(topology)),
                List.of("run.duration=" + duration, "run.report=\"\""));
        var loaded = runner.load(42, List.of());
        Settings s = loaded.settings();
        Timeline timeline = new Timeline(s.topology().guests(), s.topology().vcpus(), s.host().pagingWorkers(), 1_000_000);
        RunResult r = DeterministicRunner.run(loaded, StrategySpec.random(), null, Long.MAX_VALUE, null, null,
                timeline, p -> { });
        return new Run(r, timeline, s);
    }

    private static List<JsonNode> events(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(file.toFile()).get("traceEvents").forEach(out::add);
        return out;
    }

    @Test
    void aRunIsWrittenAsNestedSlicesTokenSpansArrowsAndFindings() throws Exception {
        Run run = run("5ms");
        Path file = tmp.resolve("trace.json");
        PerfettoTrace.Written w = PerfettoTrace.write(file, run.timeline(), 0, "test");
        List<JsonNode> events = events(file);
        assertEquals(w.events(), events.size());

        Set<String> threads = new HashSet<>();
        events.stream().filter(e -> e.get("name").asText().equals("thread_name"))
                .forEach(e -> threads.add(e.get("args").get("name").asText()));
        for (int i = 0; i < run.settings().topology().vcpus(); i++) {
            assertTrue(threads.contains("vCPU " + i + " tasks"), threads.toString());
            assertTrue(threads.contains("vCPU " + i + " host (KVM)"), threads.toString());
        }
        for (int i = 0; i < run.settings().host().pagingWorkers(); i++) {
            assertTrue(threads.contains("paging worker " + i), threads.toString());
        }

        // Perfetto shows one slice stack per track: slices on a track must nest, never overlap.
        Map<String, List<JsonNode>> byTrack = new HashMap<>();
        events.stream().filter(e -> e.get("ph").asText().equals("X"))
                .forEach(e -> byTrack.computeIfAbsent(e.get("pid") + "/" + e.get("tid"), k -> new ArrayList<>()).add(e));
        Set<String> sliceNames = new HashSet<>();
        for (List<JsonNode> slices : byTrack.values()) {
            slices.sort(Comparator.comparingDouble((JsonNode e) -> e.get("ts").asDouble())
                    .thenComparingDouble(e -> -e.get("dur").asDouble()));
            Deque<Double> ends = new ArrayDeque<>();
            for (JsonNode e : slices) {
                double ts = e.get("ts").asDouble();
                double end = ts + e.get("dur").asDouble();
                assertTrue(e.get("dur").asDouble() >= 0, e.toString());
                // Times are whole virtual nanoseconds written in microseconds: compare to a tenth of one.
                while (!ends.isEmpty() && ends.peek() <= ts + 1e-4) {
                    ends.pop();
                }
                assertTrue(ends.isEmpty() || end <= ends.peek() + 1e-4, "overlapping slice " + e);
                ends.push(end);
                sliceNames.add(e.get("name").asText());
            }
        }
        for (String expected : List.of("#PF handler (async)", "NMI handler", "async PF wait (sleep)", "hlt",
                "inject not-present", "inject page-ready", "task 0", "idle task")) {
            assertTrue(sliceNames.contains(expected), expected + " in " + sliceNames);
        }

        // One arrow per token: starts on a not-present injection, ends on its page-ready.
        Map<String, JsonNode> injections = new HashMap<>();
        events.stream().filter(e -> e.get("ph").asText().equals("X") && e.get("name").asText().startsWith("inject "))
                .forEach(e -> injections.put(e.get("tid") + "@" + e.get("ts").asDouble(), e));
        Map<Long, List<JsonNode>> flows = new HashMap<>();
        events.stream().filter(e -> Set.of("s", "f").contains(e.get("ph").asText()))
                .forEach(e -> flows.computeIfAbsent(e.get("id").asLong(), k -> new ArrayList<>()).add(e));
        assertFalse(flows.isEmpty(), "no page-ready arrows");
        for (List<JsonNode> f : flows.values()) {
            assertEquals(2, f.size(), f.toString());
            JsonNode start = f.get(0).get("ph").asText().equals("s") ? f.get(0) : f.get(1);
            JsonNode end = start == f.get(0) ? f.get(1) : f.get(0);
            assertTrue(end.get("ts").asDouble() >= start.get("ts").asDouble(), f.toString());
            JsonNode np = injections.get(start.get("tid") + "@" + start.get("ts").asDouble());
            JsonNode pr = injections.get(end.get("tid") + "@" + end.get("ts").asDouble());
            assertEquals("inject not-present", np == null ? null : np.get("name").asText(), start.toString());
            assertEquals("inject page-ready", pr == null ? null : pr.get("name").asText(), end.toString());
            assertEquals(np.get("args").get("token"), pr.get("args").get("token"), "the same token");
        }

        Map<String, Integer> spans = new HashMap<>();
        events.stream().filter(e -> Set.of("b", "e").contains(e.get("ph").asText()))
                .forEach(e -> spans.merge(e.get("id").asText(), e.get("ph").asText().equals("b") ? 1 : -1, Integer::sum));
        assertFalse(spans.isEmpty(), "no token spans");
        spans.forEach((id, balance) -> assertEquals(0, balance, "token span " + id));

        Set<String> marked = new HashSet<>();
        events.stream().filter(e -> e.get("ph").asText().equals("i") && e.get("cat").asText().equals("finding")
                        && e.get("s").asText().equals("g"))
                .forEach(e -> marked.add(e.get("name").asText().replaceAll(" \\(vCPU \\d+\\)$", "")));
        Set<String> found = new HashSet<>();
        run.result().findings().forEach((k, n) -> found.add(k.name()));
        assertFalse(found.isEmpty(), "the legacy NMI storm gives findings within 5 ms");
        assertEquals(found, marked, "every finding kind of the run is marked on the global track");
        assertTrue(found.stream().allMatch(k -> FindingKind.valueOf(k) != null));
    }

    /**
     * A #VE (the #VE design) inside an NMI handler and an SMI inside a #PF handler: each opens a
     * slice that its own IRET (RSM) closes, nested in the handler it interrupted, which goes on
     * to its own IRET. Without their slices the inner IRET closed the outer handler early.
     */
    @Test
    void aVeAndAnSmiInsideAnotherHandlerNestInsideIt() throws Exception {
        Timeline timeline = new Timeline(1, 1, 1, 1000);
        Timeline.Track vcpu = timeline.vcpu(0, 0);
        vcpu.event(0, 0, TraceEvent.SWITCH_TO_TASK, 0);
        vcpu.event(0, 100, TraceEvent.DELIVER_NMI, 2);
        vcpu.event(0, 110, TraceEvent.DELIVER_VE, 0x1000);
        vcpu.event(0, 120, TraceEvent.IRET, 0);
        vcpu.event(0, 130, TraceEvent.IRET, 0);
        vcpu.event(0, 200, TraceEvent.DELIVER_PAGE_FAULT, 0x7000);
        vcpu.event(0, 210, TraceEvent.DELIVER_SMI, 0);
        vcpu.event(0, 215, TraceEvent.SMM_ENTRY, 0);
        vcpu.event(0, 240, TraceEvent.RSM, 0);
        vcpu.event(0, 250, TraceEvent.IRET, 0);
        vcpu.event(0, 260, TraceEvent.IRET, 0);
        vcpu.event(0, 300, TraceEvent.SWITCH_TO_TASK, -1);
        Path file = tmp.resolve("nesting.json");
        PerfettoTrace.write(file, timeline, 0, "test");
        Map<String, double[]> slices = new HashMap<>();
        for (JsonNode e : events(file)) {
            if (e.get("ph").asText().equals("X") && e.get("cat").asText().equals("guest")) {
                double ts = e.get("ts").asDouble() * 1000;
                slices.put(e.get("name").asText(), new double[] {ts, ts + e.get("dur").asDouble() * 1000});
            }
        }
        assertSlice(slices, "NMI handler", 100, 130);
        assertSlice(slices, "#VE handler", 110, 120);
        assertSlice(slices, "#PF handler", 200, 260);
        assertSlice(slices, "SMM handler", 210, 250);
    }

    private static void assertSlice(Map<String, double[]> slices, String name, long from, long to) {
        double[] s = slices.get(name);
        assertTrue(s != null, name + " in " + slices.keySet());
        assertEquals(from, s[0], 1e-6, name + " starts");
        assertEquals(to, s[1], 1e-6, name + " ends");
    }

    @Test
    void aNestedGuestShowsItsVmExitsAsSlicesAndItsTokensAsArrows() throws Exception {
        // conf/nested-kvm.conf: L2 faults reach L1 as #PF VM exits (§2.4); each exit's handling is a slice.
        Run run = run("nested-kvm.conf", "5ms");
        Path file = tmp.resolve("nested.json");
        PerfettoTrace.write(file, run.timeline(), 0, "test");
        List<JsonNode> events = events(file);
        List<JsonNode> exits = events.stream().filter(e -> e.get("ph").asText().equals("X")
                && e.get("name").asText().equals("#PF VM exit to L1")).toList();
        assertFalse(exits.isEmpty(), "no VM exit slice");
        assertTrue(exits.stream().allMatch(e -> e.get("args").has("exit qualification")), exits.toString());
        assertTrue(events.stream().anyMatch(e -> e.get("ph").asText().equals("s")), "not-present to page-ready arrows");
        assertTrue(events.stream().noneMatch(e -> e.get("name").asText().contains("VM exit, token")),
                "VM-exit injections are drawn as injections, not as loose instants");
    }

    /**
     * A vCPU's ring fills long before a worker's: without a common window the worker's track
     * reached back to 0 while the vCPU's began late, and the start of the file looked idle.
     * Every track now starts where the fullest ring is complete, and the metadata says so.
     */
    @Test
    void everyTrackCoversTheWindowWhereTheFullestRingIsComplete() throws Exception {
        Timeline timeline = new Timeline(1, 1, 1, 128);
        Timeline.Track vcpu = timeline.vcpu(0, 0);
        Timeline.Track worker = timeline.worker(0, 0);
        for (int i = 0; i < 200; i++) {
            vcpu.event(0, i * 10L, i % 2 == 0 ? TraceEvent.SWITCH_TO_TASK : TraceEvent.HLT, 0);
        }
        for (int i = 0; i < 20; i++) {
            worker.event(0, i * 100L, TraceEvent.SWAP_IN_START, i);
            worker.event(0, i * 100L + 50, TraceEvent.SWAP_IN_DONE, i);
        }
        // 64 per track: the vCPU kept times 1360..1990 and dropped up to 1350; the worker dropped nothing.
        assertEquals(1350, vcpu.completeAfterNanos());
        assertEquals(Long.MIN_VALUE, worker.completeAfterNanos());

        Path file = tmp.resolve("common.json");
        PerfettoTrace.Written w = PerfettoTrace.write(file, timeline, 0, "test", Map.of("version", "1.2.3", "seed", 7L));
        assertEquals(1351, w.fromNanos());
        assertEquals(28, w.cut(), "the worker's 14 starts and 14 ends before 1351 ns");
        assertEquals(64 + 12, w.kept());
        List<Double> workerTimes = new ArrayList<>();
        for (JsonNode e : events(file)) {
            if (e.has("ts") && !e.get("ph").asText().equals("M")) {
                assertTrue(e.get("ts").asDouble() * 1000 >= 1351 - 1e-6, "before the common window: " + e);
            }
            if (e.get("ph").asText().equals("i") && e.get("name").asText().startsWith("swap-in")) {
                workerTimes.add(e.get("ts").asDouble() * 1000);
            }
        }
        assertEquals(12, workerTimes.size(), "the worker's events from 1400 ns on are all there: " + workerTimes);
        JsonNode meta = JSON.readTree(file.toFile()).get("metadata");
        assertEquals(1351, meta.get("windowStartNanos").asLong());
        assertTrue(meta.get("windowRule").asText().contains("fullest ring"), meta.toString());
        assertEquals("1.2.3", meta.get("version").asText());
        assertEquals(7, meta.get("seed").asLong());
    }

    /** A worker records a swap-in's end when it takes the item: a dropped event can be later than a kept one. */
    @Test
    void aRingIsCompleteOnlyAfterTheLatestEventItDropped() {
        Timeline timeline = new Timeline(1, 1, 1, 128);
        Timeline.Track worker = timeline.worker(0, 0);
        worker.event(0, 5000, TraceEvent.SWAP_IN_DONE, 1);
        for (int i = 0; i < 64; i++) {
            worker.event(0, i, TraceEvent.SWAP_IN_START, i);
        }
        assertEquals(1, worker.dropped());
        assertEquals(5000, worker.completeAfterNanos(), "not 0, the oldest kept time");
    }

    @Test
    void theBoundsKeepTheLastEventsAndTheLastWindow() throws Exception {
        Run run = run("5ms");
        long all = run.timeline().tracks().stream().mapToLong(Timeline.Track::written).sum();
        long end = run.timeline().tracks().stream().flatMap(t -> t.events().stream())
                .mapToLong(Timeline.Event::atNanos).max().orElseThrow();

        Path windowed = tmp.resolve("window.json");
        PerfettoTrace.Written w = PerfettoTrace.write(windowed, run.timeline(), 1_000_000, "test");
        assertTrue(w.kept() > 0 && w.kept() < all, w + " of " + all);
        for (JsonNode e : events(windowed)) {
            if (e.has("ts") && !Set.of("e", "f", "X").contains(e.get("ph").asText())) {
                assertTrue(e.get("ts").asDouble() * 1000 >= end - 1_000_000 - 1, "before the window: " + e);
            }
        }

        int tracks = run.timeline().tracks().size();
        Timeline small = new Timeline(1, run.settings().topology().vcpus(), run.settings().host().pagingWorkers(),
                64L * tracks);
        var r = DeterministicRunner.run(new DeterministicRunner(Optional.of(CONF.resolve("scenarios/hazard-i-nmi-window.conf")),
                List.of("run.duration=5ms", "run.report=\"\"")).load(42, List.of()), StrategySpec.random(), null,
                Long.MAX_VALUE, null, null, small, p -> { });
        assertEquals(run.result().traceHash(), r.traceHash(), "recording a timeline does not change the run");
        PerfettoTrace.Written bounded = PerfettoTrace.write(tmp.resolve("small.json"), small, 0, "test");
        assertTrue(bounded.kept() <= 64L * tracks, bounded.toString());
        assertEquals(all - bounded.kept(), bounded.dropped() + bounded.cut(),
                "the oldest are dropped or cut to the common window, the rest kept");
        assertTrue(bounded.fromNanos() > 0, "the small rings dropped events: " + bounded);
        Map<String, Double> firstByTrack = new HashMap<>();
        for (JsonNode e : events(tmp.resolve("small.json"))) {
            if (e.has("ts") && e.has("tid") && !Set.of("M", "e", "f").contains(e.get("ph").asText())) {
                firstByTrack.merge(e.get("tid").asText(), e.get("ts").asDouble() * 1000, Math::min);
            }
        }
        assertTrue(firstByTrack.containsKey("1") && firstByTrack.containsKey("1000000"),
                "vCPU 0's task track and worker 0's track have events: " + firstByTrack.keySet());
        firstByTrack.forEach((tid, first) -> assertTrue(first >= bounded.fromNanos() - 1e-6, tid + " starts at " + first));
    }
}
