package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.det.Draw;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.timeline.TrackSinks;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.ProtocolWindow;
import dev.vcpuemu.model.trace.WindowTracker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code windows} strategy's plan for one seed: aim an input at each boundary of each
 * protocol window ({@link ProtocolWindow}) that a first run with that seed showed, one run per
 * boundary, earliest first: a bounded enumeration in the spirit of systematic interrupt-injection
 * testing, after which the search falls back to PCT.
 *
 * <p>Why an aim hits its window: it moves one timing draw <em>earlier</em> (an NMI's arrival, or
 * the completion of the window's own swap-in) to the boundary, inside the draw's range, and
 * changes nothing else. Up to the boundary the run is then the first run (with one vCPU exactly;
 * with several, the moved input is sent a quantum sooner, which can reorder same-quantum mail), so
 * the window is still there and the input lands on its boundary (DESIGN §3: inputs land at their
 * due micro-op boundary). Moving a draw later could not work: the input it replaced would vanish
 * from before the window. A boundary no draw can reach inside its range is skipped.
 *
 * <p>The boundaries: one nanosecond after the window opens (the input lands on the first
 * micro-op boundary inside it, e.g. §4(i) step 3, the #PF handler's first instruction), and one
 * before it closes (the last boundary inside it). Windows opened over a task come before those
 * over the idle task (an NMI handler reads user memory only over a task), each earliest first,
 * in blocks of {@link #BLOCK}: the opening boundaries of a block, then its closing ones.
 */
public final class WindowAims {
    /** Windows whose opening boundaries are aimed at before their closing ones. */
    static final int BLOCK = 8;
    /** One aimed run: the window, the boundary, and the draw it moves there with its new value. */
    public record Aim(WindowTracker.Window window, long atNanos, Draw draw, long value) {
        /** The draws the run takes otherwise than its first run did: this one. */
        public Map<Draw, Long> values() {
            return Map.of(draw, value);
        }

        public String describe() {
            return String.format("%s on vCPU %d%s [%,d, %,d) ns: %s = %,d ns to land at %,d ns", window.kind(),
                    window.vcpu(), window.guest() == 0 ? "" : " of guest " + window.guest(), window.openNanos(),
                    window.closeNanos(), draw.describe(), value, atNanos);
        }
    }

    /** A window's aims at its opening boundary and at its closing one. */
    private record Sides(WindowTracker.Window window, List<Aim> opening, List<Aim> closing) {
        List<Aim> side(int i) {
            return i == 0 ? opening : closing;
        }
    }

    private WindowAims() {
    }

    /** Windows a first run keeps in all, at most: the earliest are what the aims need. */
    public static final int WINDOWS_KEPT = 8192;

    /** Where a first run's vCPUs report their events: one tracker per vCPU, each keeping its first windows. */
    public static final class Probe implements TrackSinks {
        private final Map<Long, WindowTracker> trackers = new HashMap<>();
        private final int perVcpu;

        /** For a run of {@code vcpus} vCPUs in all. */
        public Probe(int vcpus) {
            this.perVcpu = Math.max(16, WINDOWS_KEPT / Math.max(1, vcpus));
        }

        @Override
        public EventSink vcpu(int guest, int vcpu) {
            return trackers.computeIfAbsent(((long) guest << 32) | vcpu, k -> new WindowTracker(guest, vcpu, perVcpu));
        }

        @Override
        public EventSink worker(int guest, int worker) {
            return null;
        }

        /** Every window that closed, by opening time. */
        public List<WindowTracker.Window> windows() {
            List<WindowTracker.Window> all = new ArrayList<>();
            trackers.values().forEach(t -> all.addAll(t.windows()));
            all.sort(Comparator.comparingLong(WindowTracker.Window::openNanos)
                    .thenComparingInt(WindowTracker.Window::guest).thenComparingInt(WindowTracker.Window::vcpu)
                    .thenComparing(WindowTracker.Window::kind));
            return all;
        }
    }

    /**
     * Up to {@code limit} aims at the boundaries of {@code windows}, earliest first, each moving
     * one draw of {@code first} (the first run's recorded schedule) earlier.
     */
    public static List<Aim> plan(Settings settings, List<WindowTracker.Window> windows, Schedule first, int limit) {
        Map<Long, List<Schedule.Recorded>> nmiDraws = new HashMap<>();
        Map<Long, List<Schedule.Recorded>> swapIns = new HashMap<>();
        for (Schedule.Recorded r : first.draws()) {
            Draw d = r.draw();
            if (d.site() == Draw.Site.NMI_ARRIVAL) {
                nmiDraws.computeIfAbsent(((long) d.guest() << 32) | d.unit(), k -> new ArrayList<>()).add(r);
            } else if (d.site() == Draw.Site.SWAP_IN) {
                swapIns.computeIfAbsent(swapKey(d.guest(), d.unit(), d.token()), k -> new ArrayList<>()).add(r);
            }
        }
        nmiDraws.values().forEach(l -> l.sort(Comparator.comparingLong(r -> r.draw().n())));
        // Each window's aims at its opening and at its closing boundary; windows no draw reaches are left out.
        List<Sides> aimable = new ArrayList<>();
        for (WindowTracker.Window w : windows) {
            long open = w.openNanos() + 1;
            long close = w.closeNanos() - 1;
            if (close < open) {
                continue;
            }
            List<Aim> opening = aims(settings, nmiDraws, swapIns, w, open);
            List<Aim> closing = close == open ? List.of() : aims(settings, nmiDraws, swapIns, w, close);
            if (!opening.isEmpty() || !closing.isEmpty()) {
                aimable.add(new Sides(w, opening, closing));
            }
        }
        // Windows over a task before those over the idle task, each in time order: what an NMI's
        // handler does depends on it (perf reads a user call chain only over a task, §4(i) step 4).
        aimable.sort(Comparator.comparing(sides -> sides.window().task() < 0));
        // Blocks of windows: the opening boundaries of a block, then its closing ones. Two boundaries
        // of one window often give the same outcome (the handler the input runs does the same
        // thing), so the first aims go to distinct windows; every boundary still comes in turn.
        List<Aim> aims = new ArrayList<>();
        Set<Map.Entry<Draw, Long>> seen = new HashSet<>();
        for (int block = 0; block < aimable.size(); block += BLOCK) {
            List<Sides> some = aimable.subList(block, Math.min(aimable.size(), block + BLOCK));
            for (int side = 0; side < 2; side++) {
                for (Sides sides : some) {
                    for (Aim aim : sides.side(side)) {
                        if (aims.size() >= limit) {
                            return aims;
                        }
                        if (seen.add(Map.entry(aim.draw(), aim.value()))) {
                            aims.add(aim);
                        }
                    }
                }
            }
        }
        return aims;
    }

    /** The aims at boundary {@code at} of {@code w}: NMIs for the NMI windows, the window's own completion else. */
    private static List<Aim> aims(Settings settings, Map<Long, List<Schedule.Recorded>> nmiDraws,
                                  Map<Long, List<Schedule.Recorded>> swapIns, WindowTracker.Window w, long at) {
        return w.kind().aim == ProtocolWindow.Aim.NMI ? nmiAims(settings, nmiDraws, w, at)
                : completionAim(swapIns, w, at);
    }

    private static long swapKey(int guest, int vcpu, int token) {
        return ((long) guest << 48) ^ ((long) vcpu << 32) ^ (token & 0xFFFFFFFFL);
    }

    /** For each NMI source that targets the window's vCPU: its first NMI due after {@code at}, moved to {@code at}. */
    private static List<Aim> nmiAims(Settings settings, Map<Long, List<Schedule.Recorded>> nmiDraws,
                                     WindowTracker.Window w, long at) {
        List<Aim> out = new ArrayList<>();
        List<Settings.NmiSource> sources = settings.nmi().sources();
        for (int s = 0; s < sources.size(); s++) {
            List<Integer> targets = sources.get(s).targets();
            if (!targets.isEmpty() && !targets.contains(w.vcpu())) {
                continue;
            }
            List<Schedule.Recorded> draws = nmiDraws.getOrDefault(((long) w.guest() << 32) | s, List.of());
            long due = 0;
            for (Schedule.Recorded r : draws) {
                long before = due;
                due += r.value();
                if (due > at) {
                    long value = at - before;
                    if (value >= r.min() && value <= r.max()) {
                        out.add(new Aim(w, at, r.draw(), value));
                    }
                    break;
                }
            }
        }
        return out;
    }

    /** The window's own swap-in (its token's, issued before it opened), completing at {@code at} instead. */
    private static List<Aim> completionAim(Map<Long, List<Schedule.Recorded>> swapIns, WindowTracker.Window w,
                                           long at) {
        // A token can come back later: the window's own swap-in is the last issued before it opened.
        Schedule.Recorded r = null;
        for (Schedule.Recorded c : swapIns.getOrDefault(swapKey(w.guest(), w.vcpu(), (int) w.token()), List.of())) {
            if (c.draw().n() <= w.openNanos() && (r == null || c.draw().n() > r.draw().n())) {
                r = c;
            }
        }
        if (r == null) {
            return List.of();
        }
        long value = at - r.draw().n();
        boolean earlier = r.draw().n() + r.value() > at;
        return earlier && value >= r.min() && value <= r.max() ? List.of(new Aim(w, at, r.draw(), value)) : List.of();
    }
}
