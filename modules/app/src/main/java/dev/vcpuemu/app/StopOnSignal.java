package dev.vcpuemu.app;

import dev.vcpuemu.engine.run.RunControl;
import dev.vcpuemu.engine.Simulation;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * SIGTERM and Ctrl-C (SIGINT) stop a running simulation cleanly: the JVM's shutdown hook asks
 * the run to stop at its next quantum boundary (a flag, never a message: DESIGN §3) and holds
 * the JVM until the command has written its report. Pekko's own JVM hook is off (the
 * simulation's settings), so the actor system is still up while the run winds down and its
 * coordinated shutdown runs after the report, from the command.
 *
 * <p>Once a signal has started the JVM's shutdown, {@code System.exit} can no longer choose
 * the exit status; so the hook itself ends the JVM with the command's exit code, given to
 * {@link #finish}, and the status of a stopped run still follows its expectations.
 */
final class StopOnSignal implements AutoCloseable {
    private final Thread hook;
    private final CountDownLatch reported = new CountDownLatch(1);
    private volatile Integer exitCode;

    private StopOnSignal(RunControl control) {
        hook = new Thread(() -> {
            control.requestStop();
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
    }

    static StopOnSignal install(RunControl control) {
        return new StopOnSignal(control);
    }

    /** The report is written and the command ends with {@code code}: returns it. */
    int finish(int code) {
        exitCode = code;
        close();
        return code;
    }

    /** The run is over: a signal's hook may let the JVM exit now. */
    @Override
    public void close() {
        reported.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting because of a signal; the hook is running.
        }
    }
}
