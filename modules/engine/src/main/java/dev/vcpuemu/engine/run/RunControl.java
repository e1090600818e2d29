package dev.vcpuemu.engine.run;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * How a concurrent run is bounded and stopped. The time-keeper polls it once per quantum from
 * inside the simulation dispatcher: under saturation Pekko does not run work submitted from
 * other threads (DESIGN §3), so a stop request is a flag, never a message.
 */
public final class RunControl {
    private final LongSupplier wallClock;
    private final Duration duration;
    private final Duration progressInterval;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private volatile long startNanos;

    public RunControl(LongSupplier wallClock, Duration duration, Duration progressInterval) {
        this.wallClock = wallClock;
        this.duration = duration;
        this.progressInterval = progressInterval;
    }

    public static RunControl wallClock(Duration duration, Duration progressInterval) {
        return new RunControl(System::nanoTime, duration, progressInterval);
    }

    public void start() {
        startNanos = wallClock.getAsLong();
    }

    public long elapsedNanos() {
        return wallClock.getAsLong() - startNanos;
    }

    public boolean deadlinePassed() {
        return elapsedNanos() >= duration.toNanos();
    }

    public long progressIntervalNanos() {
        return progressInterval.toNanos();
    }

    public Duration duration() {
        return duration;
    }

    /** Asks the run to stop at the end of the current quantum; safe from any thread. */
    public void requestStop() {
        stopRequested.set(true);
    }

    public boolean stopRequested() {
        return stopRequested.get();
    }
}
