package dev.vcpuemu.engine.timeline;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.EventSink;
import dev.vcpuemu.model.trace.TraceEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * The last events of a run, per track, for a timeline file ({@code --trace}): one track per vCPU
 * (its guest and host halves' events, as the vCPU model records them) and one per host paging
 * worker. Memory is fixed when the run starts: each track is a ring of {@code capacity} events
 * that drops its oldest, so a run of any length keeps only its end. Tracks fill at different
 * rates (a vCPU records far more than a paging worker), so their kept ends begin at different
 * times; each track says from when on it is complete ({@link Track#completeAfterNanos}), and a
 * reader that wants every track over one window cuts them all to the latest of those.
 *
 * <p>Each track has a single writer at a time: the actor it belongs to, which Pekko runs on one
 * thread at a time with a happens-before edge between its messages. Nothing is locked, nothing
 * is read while the run goes on: the tracks are read once the actor system has terminated
 * (which orders every write before the read). Like the latency recorders, it is written only and
 * never read by anything that decides what the simulation does, so it cannot change a run.
 */
public final class Timeline implements TrackSinks {
    /** Whose events a track holds. */
    public enum Owner { VCPU, WORKER }

    private final List<Track> tracks = new ArrayList<>();
    private final int vcpus;
    private final int workers;

    /**
     * @param maxEvents events kept in all (split evenly over the tracks, at least 64 each)
     */
    public Timeline(int guests, int vcpusPerGuest, int workersPerGuest, long maxEvents) {
        this.vcpus = vcpusPerGuest;
        this.workers = workersPerGuest;
        int count = guests * (vcpusPerGuest + workersPerGuest);
        int capacity = (int) Math.max(64, Math.min(Integer.MAX_VALUE - 8, maxEvents / Math.max(1, count)));
        for (int g = 0; g < guests; g++) {
            for (int i = 0; i < vcpusPerGuest; i++) {
                tracks.add(new Track(Owner.VCPU, g, i, capacity));
            }
            for (int w = 0; w < workersPerGuest; w++) {
                tracks.add(new Track(Owner.WORKER, g, w, capacity));
            }
        }
    }

    @Override
    public Track vcpu(int guest, int vcpu) {
        return tracks.get(guest * (vcpus + workers) + vcpu);
    }

    @Override
    public Track worker(int guest, int worker) {
        return tracks.get(guest * (vcpus + workers) + vcpus + worker);
    }

    /** Every track, guest by guest: its vCPUs, then its workers. */
    public List<Track> tracks() {
        return List.copyOf(tracks);
    }

    /** One ring of (virtual time, event or finding, argument), written by one actor at a time. */
    public static final class Track implements EventSink {
        private final Owner owner;
        private final int guest;
        private final int index;
        private final long[] time;
        private final TraceEvent[] what;
        private final FindingKind[] finding;
        private final long[] arg;
        private long written;
        /** The latest virtual time among the events the ring dropped (Long.MIN_VALUE: none dropped). */
        private long droppedUntil = Long.MIN_VALUE;

        Track(Owner owner, int guest, int index, int capacity) {
            this.owner = owner;
            this.guest = guest;
            this.index = index;
            this.time = new long[capacity];
            this.what = new TraceEvent[capacity];
            this.finding = new FindingKind[capacity];
            this.arg = new long[capacity];
        }

        public Owner owner() {
            return owner;
        }

        public int guest() {
            return guest;
        }

        /** The vCPU id within its guest, or the worker's number. */
        public int index() {
            return index;
        }

        /** Records an event; the {@code vcpu} argument of the sink is ignored (the track knows whose it is). */
        @Override
        public void event(int vcpu, long atNanos, TraceEvent event, long argument) {
            keep(atNanos, event, null, argument);
        }

        /** Records a finding at this point of the vCPU's events. */
        @Override
        public void finding(int vcpu, long atNanos, FindingKind kind) {
            keep(atNanos, null, kind, 0);
        }

        private void keep(long atNanos, TraceEvent event, FindingKind kind, long argument) {
            int i = (int) (written % time.length);
            if (written >= time.length) {
                // Events are not always recorded in time order (a worker records a swap-in's end when it
                // takes the item): the latest dropped time, not the oldest kept, bounds what is complete.
                droppedUntil = Math.max(droppedUntil, time[i]);
            }
            time[i] = atNanos;
            what[i] = event;
            finding[i] = kind;
            arg[i] = argument;
            written++;
        }

        /** Events recorded over the run, including those the ring has dropped. */
        public long written() {
            return written;
        }

        /** Events the ring dropped (the oldest). */
        public long dropped() {
            return Math.max(0, written - time.length);
        }

        /**
         * Every event of this track after this virtual time is kept: the latest time among the
         * dropped events, or {@link Long#MIN_VALUE} when the ring dropped none.
         */
        public long completeAfterNanos() {
            return droppedUntil;
        }

        /** The events kept, oldest first by recording order. */
        public List<Event> events() {
            int kept = (int) Math.min(written, time.length);
            List<Event> out = new ArrayList<>(kept);
            for (long n = written - kept; n < written; n++) {
                int i = (int) (n % time.length);
                out.add(new Event(time[i], what[i], finding[i], arg[i]));
            }
            return out;
        }
    }

    /**
     * One recorded event: what a vCPU model or a worker said happened, at its virtual time;
     * either an event ({@code what}) or a finding ({@code finding}), the other null.
     */
    public record Event(long atNanos, TraceEvent what, FindingKind finding, long arg) {
        public static Event of(long atNanos, TraceEvent what, long arg) {
            return new Event(atNanos, what, null, arg);
        }

        public static Event finding(long atNanos, FindingKind kind) {
            return new Event(atNanos, null, kind, 0);
        }
    }
}
