package dev.vcpuemu.engine.det;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The executor of the deterministic engine's simulation dispatcher (DESIGN §3): one thread
 * that repeatedly lets a {@link Strategy} pick one of the ready mailboxes and runs it. Pekko
 * submits an actor's mailbox here whenever it has messages to process; with a mailbox
 * throughput of t, running it processes up to t messages and resubmits it if more are left.
 *
 * <p>Why this is deterministic: during a run every submission comes from this thread (the
 * actors only send to each other, and the machine guardian spawns the topology from here), so
 * the ready list evolves as a function of the choices alone. Submissions from other threads
 * (Pekko creating the machine guardian, termination at the end) go to an inbox that is only
 * taken in when nothing is ready, i.e. before and after the simulation, never in its middle.
 *
 * <p>It is also where the run's actors take their timing draws ({@link Draws}): on this thread,
 * at a point fixed by the choices, so the strategy decides them too and they are recorded beside
 * the scheduling choices.
 */
public final class SeededExecutor extends AbstractExecutorService implements Draws {
    // Driver-thread state. reset() writes it while the driver is idle; the next run's first task
    // then reaches the driver through the inbox, a happens-before edge that publishes the writes.
    private Strategy strategy;
    private Schedule record;
    private final List<Runnable> ready = new ArrayList<>();
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private final Thread driver;
    private volatile boolean shutdown;
    private volatile boolean terminated;
    private volatile boolean idle;
    private long steps;

    /**
     * @param record where every choice is appended, or null not to record
     */
    public SeededExecutor(String name, Strategy strategy, Schedule record) {
        this.strategy = strategy;
        this.record = record;
        this.driver = new Thread(this::drive, name);
        driver.setDaemon(true);
        driver.start();
    }

    /**
     * Makes this executor start a new run, as a new executor would (explore reuses one actor
     * system per worker thread): the strategy and the recording are the new run's, the step count
     * starts at 0. Only call it when {@link #awaitIdle} has returned and nothing submits tasks.
     */
    public void reset(Strategy strategy, Schedule record) {
        if (!idle || !inbox.isEmpty()) {
            throw new IllegalStateException("reset while the seeded executor still has work");
        }
        this.strategy = strategy;
        this.record = record;
        this.steps = 0;
    }

    /**
     * Waits until the driver has run every task submitted so far and parked: after the actors of
     * a run have terminated, no task of theirs can run during the next one.
     */
    public void awaitIdle() throws InterruptedException {
        while (!(idle && inbox.isEmpty())) {
            // A short park, not Thread.sleep(0, n): that sleeps a whole millisecond, a run of 1 ms.
            LockSupport.parkNanos(20_000);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /**
     * Ends the run: the steps after its result (stopping its actors) are not part of its schedule,
     * and the strategy is told how many steps the run took. Call it on the driver thread.
     */
    public void endRun() {
        record = null;
        strategy.runEnded(steps);
    }

    /** The strategy's value for a timing draw, recorded; called by the run's actors, on the driver thread. */
    @Override
    public long draw(Draw draw, long min, long max, long sampled) {
        long value = strategy.draw(draw, min, max, sampled);
        if (record != null) {
            record.addDraw(draw, value, min, max, value != sampled);
        }
        return value;
    }

    /** Scheduling steps taken so far: mailbox runs chosen by the strategy. Read on the driver thread. */
    public long steps() {
        return steps;
    }

    @Override
    public void execute(Runnable task) {
        if (Thread.currentThread() == driver) {
            ready.add(task);
        } else {
            inbox.add(task);
            LockSupport.unpark(driver);
        }
    }

    private void drive() {
        while (true) {
            if (ready.isEmpty()) {
                Runnable r = inbox.poll();
                if (r != null) {
                    ready.add(r);
                    continue;
                }
                if (shutdown) {
                    break;
                }
                idle = true;
                if (inbox.isEmpty()) {
                    LockSupport.park(this);
                }
                idle = false;
                continue;
            }
            int i;
            if (ready.size() == 1) {
                strategy.onlyOne(steps);
                i = 0;
            } else {
                i = strategy.choose(ready, steps);
            }
            if (record != null) {
                record.add(i);
            }
            steps++;
            Runnable r = ready.get(i);
            int last = ready.size() - 1;
            // Swap-remove: O(1), and the order it leaves is still a function of the choices.
            ready.set(i, ready.get(last));
            ready.remove(last);
            try {
                r.run();
            } catch (Throwable t) {
                // Pekko's mailbox handles actor failures itself; anything escaping is a bug of
                // the emulator, reported on stderr rather than killing the only thread.
                t.printStackTrace();
            }
        }
        terminated = true;
    }

    @Override
    public void shutdown() {
        shutdown = true;
        LockSupport.unpark(driver);
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return terminated;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        driver.join(unit.toMillis(timeout));
        return terminated;
    }
}
