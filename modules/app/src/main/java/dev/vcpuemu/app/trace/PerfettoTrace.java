package dev.vcpuemu.app.trace;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.vcpuemu.engine.io.AtomicFiles;
import dev.vcpuemu.engine.timeline.Timeline;
import dev.vcpuemu.engine.timeline.Timeline.Event;
import dev.vcpuemu.engine.timeline.Timeline.Track;
import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.trace.TraceEvent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a run's {@link Timeline} as Chrome trace event JSON, which Perfetto (ui.perfetto.dev)
 * and chrome://tracing open. Time is the run's virtual time ({@code ts} in microseconds).
 *
 * <p>Layout: a process per guest; in it, per vCPU, a track of guest tasks (each a slice from
 * its switch-in to the next switch, with {@code hlt} slices inside the idle task), one track
 * per task for the handlers running on that task's stack (#PF, NMI and IRQ handlers nested as
 * they nest on the stack, and the async-PF wait inside a #PF handler), a host track for what
 * KVM did to that vCPU (not-present and page-ready injections, synchronous stalls, synthetic
 * halts); a track per paging worker (swap-ins started and done, and its queue as a counter).
 * Every outstanding token is an async span from its not-present injection to its page-ready,
 * and a flow arrow joins the two injections, also across vCPUs. Findings are instants on their
 * vCPU's task track and on the global track.
 *
 * <p>Handlers are kept per task because a task that sleeps inside its #PF handler keeps that
 * frame while another task runs (reference §2.4 "guest wait"): one stack per vCPU would not
 * nest. Every slice is written complete ({@code ph: X}) once both ends are known, so the file
 * does not depend on how a viewer orders events with equal times; a slice still open when the
 * kept events end is closed there and marked {@code "open": true}.
 *
 * <p>Every track covers one common window: the rings fill at different rates (a vCPU records
 * far more than a paging worker), so when any ring dropped events, all tracks are cut to the
 * time from which the fullest one is complete; otherwise a worker's track would reach back to
 * 0 while the vCPUs' began seconds later, and the start would look idle. The metadata says
 * where the window begins and why ({@code windowStartNanos}, {@code windowRule}), beside the
 * run's version, seed and hashes that the caller passes.
 *
 * <p>The file is written to a temporary file beside the target and moved into place, so a
 * failure leaves no half-written trace and never replaces an earlier one.
 */
public final class PerfettoTrace {
    /** Duration given to instantaneous host actions so that a flow arrow can bind to them. */
    private static final double MARK_US = 0.001;
    private static final int WORKER_TID = 1_000_000;
    private static final int UNKNOWN_TASK = Integer.MIN_VALUE;

    private final JsonGenerator json;
    private long written;
    private long flowIds;
    private long spanIds;

    private PerfettoTrace(JsonGenerator json) {
        this.json = json;
    }

    /**
     * What {@link #write} put in the file: trace events written, model events kept, model events
     * the rings dropped, and model events cut so that every track covers the same window, which
     * begins at {@code fromNanos} (0 when nothing was cut or windowed).
     */
    public record Written(long events, long kept, long dropped, long cut, long fromNanos) {}

    /** As below, with no run metadata. */
    public static Written write(Path target, Timeline timeline, long windowNanos, String title) throws IOException {
        return write(target, timeline, windowNanos, title, Map.of());
    }

    /**
     * Writes {@code timeline} to {@code target}.
     *
     * @param windowNanos keep only the events of the last this-many virtual nanoseconds (0: all the tracks kept)
     * @param run         fields for the file's metadata (version, seed, hashes): strings or whole numbers
     */
    public static Written write(Path target, Timeline timeline, long windowNanos, String title, Map<String, ?> run)
            throws IOException {
        // Each ring is read once: the events kept, by guest, and the last virtual time among them.
        Map<Integer, Map<Track, List<Event>>> byGuest = new TreeMap<>();
        long dropped = 0;
        long end = 0;
        long complete = Long.MIN_VALUE;
        for (Track t : timeline.tracks()) {
            List<Event> events = t.events();
            dropped += t.dropped();
            complete = Math.max(complete, t.completeAfterNanos());
            for (Event e : events) {
                end = Math.max(end, e.atNanos());
            }
            byGuest.computeIfAbsent(t.guest(), g -> new LinkedHashMap<>()).put(t, events);
        }
        long windowFrom = windowNanos > 0 ? end - windowNanos : Long.MIN_VALUE;
        // The common window: from just after the latest event any full ring dropped.
        long commonFrom = complete == Long.MIN_VALUE ? Long.MIN_VALUE : complete + 1;
        long from = Math.max(windowFrom, commonFrom);
        String rule = from == Long.MIN_VALUE ? "all events of every track"
                : from == commonFrom ? "every track from where the fullest ring (--trace-events) is complete"
                : "the last " + windowNanos + " ns (--trace-window)";
        long cut = 0;
        if (commonFrom > windowFrom) {
            for (Map<Track, List<Event>> g : byGuest.values()) {
                for (List<Event> events : g.values()) {
                    cut += events.stream().filter(e -> e.atNanos() < commonFrom).count();
                }
            }
        }
        long last = end;
        long droppedEvents = dropped;
        long cutEvents = cut;
        return AtomicFiles.write(target, tmp -> {
            try (JsonGenerator json = new JsonFactory().createGenerator(tmp.toFile(), JsonEncoding.UTF8)) {
                PerfettoTrace trace = new PerfettoTrace(json);
                json.writeStartObject();
                json.writeStringField("displayTimeUnit", "ns");
                json.writeArrayFieldStart("traceEvents");
                long kept = 0;
                for (Map.Entry<Integer, Map<Track, List<Event>>> g : byGuest.entrySet()) {
                    kept += trace.guest(g.getKey(), g.getValue(), from, last, title);
                }
                json.writeEndArray();
                json.writeObjectFieldStart("metadata");
                json.writeStringField("source", title);
                for (Map.Entry<String, ?> m : run.entrySet()) {
                    if (m.getValue() instanceof Number n) {
                        json.writeNumberField(m.getKey(), n.longValue());
                    } else if (m.getValue() != null) {
                        json.writeStringField(m.getKey(), m.getValue().toString());
                    }
                }
                json.writeNumberField("eventsDropped", droppedEvents);
                json.writeNumberField("eventsCutToCommonWindow", cutEvents);
                json.writeNumberField("windowNanos", windowNanos);
                json.writeNumberField("windowStartNanos", from == Long.MIN_VALUE ? 0 : from);
                json.writeNumberField("windowEndNanos", last);
                json.writeStringField("windowRule", rule);
                json.writeEndObject();
                json.writeEndObject();
                return new Written(trace.written, kept, droppedEvents, cutEvents, from == Long.MIN_VALUE ? 0 : from);
            }
        });
    }

    /** One guest: its process, its vCPUs' tracks, its workers' tracks, its tokens. */
    private long guest(int g, Map<Track, List<Event>> tracks, long from, long end, String title) throws IOException {
        int pid = g + 1;
        meta(pid, 0, "process_name", "name", "guest " + g + (title.isEmpty() ? "" : " (" + title + ")"));
        long kept = 0;
        // A token's not-present and page-ready may be on different vCPUs: joined across the guest.
        Map<Long, Injection> outstanding = new HashMap<>();
        List<Injection> injections = new ArrayList<>();
        for (Map.Entry<Track, List<Event>> track : tracks.entrySet()) {
            Track t = track.getKey();
            List<Event> events = new ArrayList<>(track.getValue());
            events.removeIf(e -> e.atNanos() < from);
            events.sort(Comparator.comparingLong(Event::atNanos));
            kept += events.size();
            if (t.owner() == Timeline.Owner.VCPU) {
                vcpu(pid, t.index(), events, end, injections);
            } else {
                worker(pid, t.index(), events);
            }
        }
        injections.sort(Comparator.comparingLong(Injection::atNanos));
        for (Injection i : injections) {
            if (i.notPresent()) {
                outstanding.put(i.token(), i);
            } else {
                Injection np = outstanding.remove(i.token());
                if (np != null) {
                    tokenSpan(pid, np, i.atNanos(), false);
                    flow(pid, np, i);
                }
            }
        }
        for (Injection np : outstanding.values()) {
            tokenSpan(pid, np, end, true);
        }
        return kept;
    }

    private record Injection(boolean notPresent, long token, long atNanos, int tid) {}

    private record Open(String name, long since, String argName, long arg) {}

    /** The tracks of one vCPU, from its events in time order. */
    private void vcpu(int pid, int id, List<Event> events, long end, List<Injection> injections) throws IOException {
        int tasksTid = id * 1000 + 1;
        int hostTid = id * 1000 + 2;
        meta(pid, tasksTid, "thread_name", "name", "vCPU " + id + " tasks");
        meta(pid, hostTid, "thread_name", "name", "vCPU " + id + " host (KVM)");
        meta(pid, tasksTid, "thread_sort_index", "sort_index", tasksTid);
        meta(pid, hostTid, "thread_sort_index", "sort_index", hostTid);
        Map<Integer, Deque<Open>> handlers = new HashMap<>();
        Open task = null;
        Open halt = null;
        Open host = null;
        int current = UNKNOWN_TASK;
        for (Event e : events) {
            long at = e.atNanos();
            int stackTid = stackTid(id, current);
            if (e.finding() != null) {
                String kind = e.finding().name();
                instant(pid, stackTid, kind, at, e.arg(), "t", "finding");
                instant(pid, 0, kind + " (vCPU " + id + ")", at, e.arg(), "g", "finding");
                continue;
            }
            TraceEvent w = e.what();
            if (halt != null && (isDelivery(w) || w == TraceEvent.SWITCH_TO_TASK)) {
                slice(pid, tasksTid, halt, at, false);
                halt = null;
            }
            switch (w) {
                case SWITCH_TO_TASK -> {
                    if (task != null) {
                        slice(pid, tasksTid, task, at, false);
                    }
                    current = (int) e.arg();
                    task = new Open(taskName(current), at, "task", current);
                    stack(handlers, current, id, pid);
                }
                case HLT -> halt = new Open("hlt", at, "task", e.arg());
                case DELIVER_ASYNC_PAGE_FAULT -> push(handlers, current, id, pid, new Open("#PF handler (async)", at, "cr2", e.arg()));
                case DELIVER_PAGE_FAULT -> push(handlers, current, id, pid, new Open("#PF handler", at, "cr2", e.arg()));
                case DELIVER_NMI -> push(handlers, current, id, pid, new Open("NMI handler", at, "vector", 2));
                // Every delivery opens the slice its IRET (RSM for SMM) closes, so the handlers nest as on the stack.
                case DELIVER_VE -> push(handlers, current, id, pid, new Open("#VE handler", at, "token", e.arg()));
                case DELIVER_SMI -> push(handlers, current, id, pid, new Open("SMM handler", at, "vector", 0));
                case DELIVER_GP -> push(handlers, current, id, pid, new Open("#GP handler", at, "msr", e.arg()));
                case DELIVER_IRQ -> push(handlers, current, id, pid,
                        new Open(irqName((int) e.arg()), at, "vector", e.arg()));
                case WAIT_SLEEP, WAIT_HALT -> push(handlers, current, id, pid,
                        new Open(w == TraceEvent.WAIT_SLEEP ? "async PF wait (sleep)" : "async PF wait (halt)", at,
                                "token", e.arg()));
                case WAIT_DONE -> {
                    Deque<Open> stack = handlers.get(current);
                    if (stack != null && !stack.isEmpty() && stack.peek().name().startsWith("async PF wait")) {
                        slice(pid, stackTid, stack.pop(), at, false);
                    } else {
                        instant(pid, stackTid, w.text, at, e.arg(), "t");
                    }
                }
                case PF_VM_EXIT -> push(handlers, current, id, pid,
                        new Open("#PF VM exit to L1", at, "exit qualification", e.arg()));
                case IRET, VM_ENTRY_TO_L2 -> {
                    Deque<Open> stack = handlers.get(current);
                    // A wait left open by a missing "wait done" (the ring began inside it) ends with its handler.
                    while (stack != null && !stack.isEmpty() && stack.peek().name().startsWith("async PF wait")) {
                        slice(pid, stackTid, stack.pop(), at, false);
                    }
                    if (stack != null && !stack.isEmpty()) {
                        slice(pid, stackTid, stack.pop(), at, false);
                    }
                }
                case HOST_INJECT_NOT_PRESENT, HOST_INJECT_PAGE_READY, HOST_INJECT_NOT_PRESENT_VM_EXIT,
                        HOST_INJECT_PAGE_READY_VM_EXIT -> {
                    boolean np = w == TraceEvent.HOST_INJECT_NOT_PRESENT || w == TraceEvent.HOST_INJECT_NOT_PRESENT_VM_EXIT;
                    complete(pid, hostTid, np ? "inject not-present" : "inject page-ready", "host", at / 1000.0,
                            MARK_US, "token", e.arg(), false);
                    injections.add(new Injection(np, e.arg(), at, hostTid));
                }
                case HOST_SYNC_FAULT -> host = closeAndOpen(pid, hostTid, host, new Open("synchronous stall", at, "gfn", e.arg()));
                case HOST_SYNTHETIC_HALT -> host = closeAndOpen(pid, hostTid, host, new Open("synthetic halt", at, "gfn", e.arg()));
                case HOST_SYNC_FAULT_ENDS, HOST_SYNTHETIC_HALT_ENDS -> {
                    if (host != null) {
                        slice(pid, hostTid, host, at, false);
                        host = null;
                    }
                }
                // KVM's other actions: instants on the host track.
                case HOST_ASYNC, HOST_INJECT_NOT_PRESENT_ERROR_CODE, HOST_INJECT_NOT_PRESENT_VE, HOST_DF_GUARD_CANCELS,
                        HOST_PAGING_CHANGE_FLUSHES, HOST_HANDS_PAGE_READY_OVER, HOST_TAKES_FOREIGN_PAGE_READY,
                        HOST_MIGRATED -> instant(pid, hostTid, w.text, at, e.arg(), "t");
                // What the guest did without a slice of its own: instants on the running task's stack.
                case LAPIC_DROPS_VECTOR, UNCHECKED_MSR_ACCESS, SMM_ENTRY, RSM, SIGSEGV, ENTRY_INSTRUMENTATION_FAULT,
                        READ_CLEAR_APF_WORD, READ_TOKEN_SLOT, WAIT_FOUND_DUMMY, WAKE, WAKE_LEFT_DUMMY, GUEST_DISABLES_APF,
                        GUEST_ENABLES_APF_AGAIN, GUEST_ENABLES_LAPIC, VM_MIGRATED, PENDING_PF_CANCELLED,
                        LAPIC_DROPS_PAGE_READY -> instant(pid, stackTid, w.text, at, e.arg(), "t");
                // A paging worker's events are on its own track.
                case SWAP_IN_START, SWAP_IN_DONE -> throw new IllegalArgumentException("a worker's event on a vCPU track: " + w);
            }
        }
        // Whatever is still open ran to the end of the kept events.
        for (Map.Entry<Integer, Deque<Open>> s : handlers.entrySet()) {
            int tid = stackTid(id, s.getKey());
            while (!s.getValue().isEmpty()) {
                slice(pid, tid, s.getValue().pop(), end, true);
            }
        }
        if (halt != null) {
            slice(pid, tasksTid, halt, end, true);
        }
        if (task != null) {
            slice(pid, tasksTid, task, end, true);
        }
        if (host != null) {
            slice(pid, hostTid, host, end, true);
        }
    }

    private Open closeAndOpen(int pid, int tid, Open open, Open next) throws IOException {
        if (open != null) {
            slice(pid, tid, open, next.since(), false);
        }
        return next;
    }

    private void push(Map<Integer, Deque<Open>> handlers, int task, int id, int pid, Open open) throws IOException {
        stack(handlers, task, id, pid).push(open);
    }

    /** The handler stack of a task, and its track the first time it is seen. */
    private Deque<Open> stack(Map<Integer, Deque<Open>> handlers, int task, int id, int pid) throws IOException {
        Deque<Open> stack = handlers.get(task);
        if (stack == null) {
            int tid = stackTid(id, task);
            meta(pid, tid, "thread_name", "name", "vCPU " + id + " " + taskName(task) + " stack");
            meta(pid, tid, "thread_sort_index", "sort_index", tid);
            stack = new ArrayDeque<>();
            handlers.put(task, stack);
        }
        return stack;
    }

    /** Task -1 is the idle task; before the first switch the kept events show, the task is unknown. */
    private static int stackTid(int vcpu, int task) {
        return vcpu * 1000 + (task == UNKNOWN_TASK ? 9 : 10 + task + 1);
    }

    private static String taskName(int task) {
        return task == UNKNOWN_TASK ? "unknown task" : task == -1 ? "idle task" : "task " + task;
    }

    /** One paging worker: its swap-ins as instants and its queue length as a counter. */
    private void worker(int pid, int index, List<Event> events) throws IOException {
        int tid = WORKER_TID + index;
        meta(pid, tid, "thread_name", "name", "paging worker " + index);
        meta(pid, tid, "thread_sort_index", "sort_index", tid);
        long queued = 0;
        for (Event e : events) {
            boolean start = e.what() == TraceEvent.SWAP_IN_START;
            queued = Math.max(0, queued + (start ? 1 : -1));
            instant(pid, tid, start ? "swap-in start" : "swap-in done", e.atNanos(), e.arg(), "t");
            json.writeStartObject();
            json.writeStringField("name", "paging worker " + index + " swap-ins in flight");
            json.writeStringField("ph", "C");
            json.writeNumberField("ts", e.atNanos() / 1000.0);
            json.writeNumberField("pid", pid);
            json.writeObjectFieldStart("args");
            json.writeNumberField("swap-ins", queued);
            json.writeEndObject();
            json.writeEndObject();
            written++;
        }
    }

    private void tokenSpan(int pid, Injection np, long endNanos, boolean open) throws IOException {
        long id = ++spanIds;
        String name = String.format("token 0x%x", np.token());
        for (int phase = 0; phase < 2; phase++) {
            json.writeStartObject();
            json.writeStringField("name", name);
            json.writeStringField("cat", "token");
            json.writeStringField("ph", phase == 0 ? "b" : "e");
            json.writeStringField("id", "0x" + Long.toHexString(id));
            json.writeNumberField("ts", (phase == 0 ? np.atNanos() : endNanos) / 1000.0);
            json.writeNumberField("pid", pid);
            json.writeNumberField("tid", np.tid());
            if (phase == 1 && open) {
                json.writeObjectFieldStart("args");
                json.writeBooleanField("open", true);
                json.writeEndObject();
            }
            json.writeEndObject();
            written++;
        }
    }

    /** An arrow from the not-present injection to the page-ready injection of the same token. */
    private void flow(int pid, Injection np, Injection pr) throws IOException {
        long id = ++flowIds;
        for (Injection i : List.of(np, pr)) {
            json.writeStartObject();
            json.writeStringField("name", "page ready");
            json.writeStringField("cat", "host");
            json.writeStringField("ph", i == np ? "s" : "f");
            if (i == pr) {
                json.writeStringField("bp", "e");
            }
            json.writeNumberField("id", id);
            json.writeNumberField("ts", i.atNanos() / 1000.0);
            json.writeNumberField("pid", pid);
            json.writeNumberField("tid", i.tid());
            json.writeEndObject();
            written++;
        }
    }

    private void slice(int pid, int tid, Open o, long endNanos, boolean open) throws IOException {
        complete(pid, tid, o.name(), "guest", o.since() / 1000.0, (endNanos - o.since()) / 1000.0, o.argName(), o.arg(), open);
    }

    private void complete(int pid, int tid, String name, String cat, double ts, double dur, String argName, long arg,
                          boolean open) throws IOException {
        json.writeStartObject();
        json.writeStringField("name", name);
        json.writeStringField("cat", cat);
        json.writeStringField("ph", "X");
        json.writeNumberField("ts", ts);
        json.writeNumberField("dur", dur);
        json.writeNumberField("pid", pid);
        json.writeNumberField("tid", tid);
        json.writeObjectFieldStart("args");
        json.writeStringField(argName, "0x" + Long.toHexString(arg));
        if (open) {
            json.writeBooleanField("open", true);
        }
        json.writeEndObject();
        json.writeEndObject();
        written++;
    }

    private void instant(int pid, int tid, String name, long atNanos, long arg, String scope) throws IOException {
        instant(pid, tid, name, atNanos, arg, scope, "event");
    }

    private void instant(int pid, int tid, String name, long atNanos, long arg, String scope, String cat)
            throws IOException {
        json.writeStartObject();
        json.writeStringField("name", name);
        json.writeStringField("cat", cat);
        json.writeStringField("ph", "i");
        json.writeStringField("s", scope);
        json.writeNumberField("ts", atNanos / 1000.0);
        json.writeNumberField("pid", pid);
        if (!scope.equals("g")) {
            json.writeNumberField("tid", tid);
        }
        json.writeObjectFieldStart("args");
        json.writeStringField("arg", "0x" + Long.toHexString(arg));
        json.writeEndObject();
        json.writeEndObject();
        written++;
    }

    private void meta(int pid, int tid, String name, String key, Object value) throws IOException {
        json.writeStartObject();
        json.writeStringField("name", name);
        json.writeStringField("ph", "M");
        json.writeNumberField("pid", pid);
        if (tid != 0) {
            json.writeNumberField("tid", tid);
        }
        json.writeObjectFieldStart("args");
        if (value instanceof Integer i) {
            json.writeNumberField(key, i);
        } else {
            json.writeStringField(key, String.valueOf(value));
        }
        json.writeEndObject();
        json.writeEndObject();
        written++;
    }

    /** An event that delivers something to the guest: it ends an HLT. */
    private static boolean isDelivery(TraceEvent w) {
        return switch (w) {
            case DELIVER_PAGE_FAULT, DELIVER_ASYNC_PAGE_FAULT, DELIVER_VE, DELIVER_NMI, DELIVER_IRQ, DELIVER_SMI,
                    DELIVER_GP -> true;
            default -> false;
        };
    }

    private static String irqName(int vector) {
        return switch (vector) {
            case Vector.TIMER -> "timer IRQ handler";
            case Vector.ASYNC_PF -> "page-ready IRQ handler";
            case Vector.RESCHEDULE -> "reschedule IRQ handler";
            default -> String.format("IRQ 0x%x handler", vector);
        };
    }
}
