package dev.vcpuemu.engine.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.vcpuemu.engine.sim.Machine;
import dev.vcpuemu.model.settings.Settings;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs one simulation on the concurrent engine: an actor system whose simulation actors live
 * on their own dispatcher (DESIGN §3), sized from {@code vcpu-emu.engine}. Pekko's JVM
 * shutdown hook is switched off: the application decides what a signal means (stop the run,
 * write the report), so nothing is lost when a run is interrupted.
 */
public final class Simulation {
    /** How long past its duration a run may take to wind down before it counts as hung. */
    public static final Duration GRACE = Duration.ofSeconds(30);

    private Simulation() {
    }

    public static RunResult run(Settings settings, Config config, RunControl control, Consumer<Progress> progress)
            throws InterruptedException, TimeoutException {
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(
                Behaviors.setup(ctx -> {
                    ctx.spawn(Machine.create(settings, control, result, progress), "machine",
                            DispatcherSelector.fromConfig(Machine.DISPATCHER));
                    return Behaviors.empty();
                }),
                "vcpu-emu", engineConfig(settings).withFallback(config));
        try {
            return result.get(control.duration().plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("simulation failed", e.getCause());
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // The result is already in hand; a slow shutdown does not change it.
            }
        }
    }

    /** The simulation dispatcher and the shutdown settings, derived from the typed settings. */
    static Config engineConfig(Settings settings) {
        var e = settings.engine();
        int parallelism = e.parallelism() > 0 ? e.parallelism() : Runtime.getRuntime().availableProcessors();
        return ConfigFactory.parseString(String.join("\n",
                Machine.DISPATCHER + " {",
                "  type = Dispatcher",
                "  executor = fork-join-executor",
                "  fork-join-executor { parallelism-min = " + parallelism + ", parallelism-max = " + parallelism
                        + ", parallelism-factor = 1.0 }",
                "  throughput = " + e.mailboxThroughput(),
                "}",
                "pekko.jvm-shutdown-hooks = off",
                "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                "pekko.coordinated-shutdown.exit-jvm = off"));
    }
}
