package dev.vcpuemu.app;

import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.Simulation;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) and SIGTERM stop a running simulation cleanly: the run is asked to stop at
 * its next quantum boundary (a flag, never a message: DESIGN §3), the command writes its report
 * as usual, and the command then exits with 128 + the signal's number, as a shell expects of a
 * program a signal ended: 130 for SIGINT, 143 for SIGTERM. The report holds the outcome of the
 * expectations; the exit code says the run was cut short. An {@code explore} search on one JVM
 * is stopped the same way: it launches no new runs and writes its outcome over the runs done.
 *
 * <p>Telling SIGINT from SIGTERM needs a handler per signal, and the JDK's only API for that is
 * {@code sun.misc.Signal} (module jdk.unsupported, kept for this use; javac warns about it and
 * the warning cannot be suppressed). The handlers replace the JVM's own for the length of the
 * run and are put back when it ends. A signal the process inherited as ignored (a background
 * job of a non-interactive shell ignores SIGINT) stays ignored.
 *
 * <p>Other ways the JVM is asked to shut down (SIGHUP, or a platform without these handlers)
 * still stop the run through a shutdown hook, which holds the JVM until the command has written
 * its report; since {@code System.exit} can no longer choose the status then, the hook ends
 * the JVM itself with the command's exit code, given to {@link #finish}. Pekko's own JVM hook
 * is off (the simulation's settings), so the actor system is still up while the run winds down.
 */
final class StopOnSignal implements AutoCloseable {
    /** The signals that stop a run and choose its exit code. */
    private static final String[] STOPPING = {"INT", "TERM"};

    private final Runnable stop;
    private final String stopping;
    private final Thread hook;
    private final CountDownLatch reported = new CountDownLatch(1);
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private volatile Signal received;
    private volatile Integer exitCode;
    private boolean closed;

    private StopOnSignal(Runnable stop, String stopping) {
        this.stop = stop;
        this.stopping = stopping;
        hook = new Thread(() -> {
            stop.run();
            try {
                reported.await(Simulation.GRACE.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Integer code = exitCode;
            if (code != null) {
                System.out.flush();
                System.err.flush();
                Runtime.getRuntime().halt(code);
            }
        }, "vcpu-emu-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        for (String name : STOPPING) {
            try {
                Signal signal = new Signal(name);
                previous.put(signal, Signal.handle(signal, this::stop));
            } catch (IllegalArgumentException unavailable) {
                // Not on this platform, or the JVM runs with -Xrs: the shutdown hook stops the run.
            }
        }
    }

    static StopOnSignal install(RunControl control) {
        return new StopOnSignal(control::requestStop, "stopping at the next quantum and writing the report");
    }

    /**
     * For what is not one run ({@code explore}'s search): {@code stop} asks it to end, and
     * {@code stopping} says, after "SIGINT: ", what happens then.
     */
    static StopOnSignal install(Runnable stop, String stopping) {
        return new StopOnSignal(stop, stopping);
    }

    /** A stopping signal: the first one is remembered for the exit code and said; the run stops either way. */
    private void stop(Signal signal) {
        if (received == null) {
            received = signal;
            System.err.println();
            System.err.println("vcpu-emu: SIG" + signal.getName() + ": " + stopping);
            System.err.flush();
        }
        stop.run();
    }

    /** The exit code of a run stopped by a signal: 128 + its number. */
    static int exitCode(Signal signal) {
        return 128 + signal.getNumber();
    }

    /**
     * The report is written and the command would end with {@code code}: returns the exit code,
     * which is 130 or 143 instead when SIGINT or SIGTERM stopped the run.
     */
    int finish(int code) {
        Signal signal = received;
        int exit = signal == null ? code : exitCode(signal);
        exitCode = exit;
        close();
        return exit;
    }

    /** The run is over: the JVM's own signal handling is back, and a shutdown hook may let the JVM exit. */
    @Override
    public synchronized void close() {
        reported.countDown();
        if (closed) {
            return;
        }
        closed = true;
        previous.forEach(Signal::handle);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting; the hook is running.
        }
    }
}
