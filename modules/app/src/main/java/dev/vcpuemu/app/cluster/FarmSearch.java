package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.BuildInfo;
import dev.vcpuemu.app.config.ConfigProblem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The coordinator's side of {@code explore --cluster} and {@code --local-cluster K}: this JVM
 * founds the cluster, holds the {@link Farm} and is a node of it too; with a local cluster it
 * starts K - 1 worker JVMs. {@link #close} ends it all in order: nodes dismissed, their leaving
 * awaited, this node leaves, worker JVMs reaped.
 */
public final class FarmSearch implements AutoCloseable {
    private final ActorSystem<Void> system;
    private final Farm.View view = new Farm.View();
    private final String address;
    private ActorRef<Farm.Command> farm;
    private LocalCluster local;

    /**
     * @param localWorkers worker JVMs to start on this machine (0 for {@code --cluster}: workers join by hand)
     */
    public FarmSearch(Job job, long runs, Duration timeLimit, String bindHost, int port, String portOption,
                      int threads, int localWorkers, int workerThreads, Path logDir, PrintWriter err)
            throws ConfigProblem, IOException {
        CompletableFuture<ActorRef<Farm.Command>> spawned = new CompletableFuture<>();
        system = ClusterNode.start(Behaviors.setup(ctx -> {
            spawned.complete(ctx.spawn(Farm.create(job, runs, timeLimit, localWorkers + 1, build(), view, line -> {
                err.println(line);
                err.flush();
            }), "farm"));
            ctx.spawn(FarmNode.create(build(), ClusterNode.hostPort(ctx.getSystem()), threads, new CompletableFuture<>()),
                    "node");
            return Behaviors.empty();
        }), bindHost, port, portOption);
        ClusterNode.found(system);
        address = ClusterNode.hostPort(system);
        farm = spawned.join();
        if (localWorkers > 0) {
            try {
                local = new LocalCluster(localWorkers, bindHost, address, workerThreads, logDir);
            } catch (IOException | RuntimeException e) {
                system.terminate();
                throw e;
            }
        }
    }

    /** What a node is told to join: this node's host:port. */
    public String address() {
        return address;
    }

    public Farm.View view() {
        return view;
    }

    /**
     * Launches no more runs anywhere, as the time limit would (a stop signal): the runs under
     * way end and count, and {@link #await} returns. Safe from any thread.
     */
    public void halt() {
        farm.tell(Farm.Halt.INSTANCE);
    }

    /** Waits for the search to end. */
    public Farm.Outcome await() throws InterruptedException, ExecutionException {
        return view.outcome().get();
    }

    /** This build, as nodes compare it at their hello: version, commit, and whether it had changes. */
    public static String build() {
        return BuildInfo.version() + " (" + BuildInfo.shortCommit() + (BuildInfo.modified() ? ", modified" : "") + ")";
    }

    /** Dismisses the nodes, waits up to 10 s for them to leave, leaves, and reaps the worker JVMs. */
    @Override
    public void close() throws InterruptedException {
        farm.tell(Farm.Dismiss.INSTANCE);
        ClusterNode.awaitOthersGone(system, Duration.ofSeconds(10));
        ClusterNode.leave(system, Duration.ofSeconds(10));
        if (local != null) {
            // Dismissed workers are gone by now; one that never joined is still trying to: end it.
            local.end(Duration.ofSeconds(3));
        }
    }
}
