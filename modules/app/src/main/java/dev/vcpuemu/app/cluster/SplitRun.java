package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.engine.run.Progress;
import dev.vcpuemu.engine.run.RunControl;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The coordinator's side of {@code run --cluster-nodes K} and {@code run --local-cluster K}: this
 * JVM founds the cluster, holds the {@link Split} and runs a part of the guests too; with a local
 * cluster it starts K - 1 node JVMs. {@link #close} ends it all: after a normal end the nodes are
 * dismissed and leave, then this one; after a cut-short run nothing waits for the lost node, and
 * local node JVMs still running are stopped.
 */
public final class SplitRun implements AutoCloseable {
    private final ActorSystem<Void> system;
    private final String address;
    private final CompletableFuture<Split.Outcome> outcome = new CompletableFuture<>();
    private final Duration nodeWait;
    private LocalCluster local;

    /**
     * @param localNodes node JVMs to start on this machine (0 for {@code --cluster-nodes}: nodes join by hand)
     * @param logDir     where a local node JVM writes its output ({@code node-i.log})
     * @param nodeWait   how long to wait for the nodes to join
     */
    public SplitRun(SplitJob job, long quantumNanos, RunControl control, Consumer<Progress> progress, String bindHost,
                    int port, String portOption, int localNodes, Path logDir, Duration nodeWait)
            throws ConfigProblem, IOException {
        this.nodeWait = nodeWait;
        system = ClusterNode.start(Behaviors.setup(ctx -> {
            ctx.spawn(Split.create(FarmSearch.build(), job, quantumNanos, control, progress, nodeWait, outcome), "split");
            ctx.spawn(SplitNode.create(FarmSearch.build(), ClusterNode.hostPort(ctx.getSystem()),
                    new CompletableFuture<>()), "node");
            return Behaviors.empty();
        }), bindHost, port, portOption);
        ClusterNode.found(system);
        address = ClusterNode.hostPort(system);
        if (localNodes > 0) {
            try {
                local = new LocalCluster(localNodes, bindHost, address, 1, logDir);
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

    /**
     * Waits for the run to end: the nodes to join (at most the wait given), the run itself
     * ({@code duration}) and its wind-down ({@code grace}).
     */
    public Split.Outcome await(Duration duration, Duration grace) throws InterruptedException, TimeoutException {
        try {
            return outcome.get(nodeWait.plus(duration).plus(grace).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the run's coordinator failed", e.getCause());
        }
    }

    /**
     * Ends the cluster. After a normal end the nodes were dismissed: their leaving is awaited (up to
     * 10 s), then this node leaves; after bad input (a node refused, nodes late) this node leaves
     * too, so that a refused node hears why before the coordinator goes. A run cut short (a node
     * lost: it cannot take part in a graceful leave) or hung downs every member, this one too, and
     * stops at once (down-all). Local node JVMs still running after that are stopped.
     */
    @Override
    public void close() throws InterruptedException {
        Split.Outcome o = outcome.getNow(null);
        if (o != null && !o.partial()) {
            if (o.badInput() == null) {
                ClusterNode.awaitOthersGone(system, Duration.ofSeconds(10));
            }
            ClusterNode.leave(system, Duration.ofSeconds(10));
        } else {
            Cluster cluster = Cluster.get(system);
            for (Member m : cluster.state().getMembers()) {
                cluster.manager().tell(new Down(m.address()));
            }
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // The outcome is in hand; a slow shutdown does not change it.
            }
        }
        if (local != null) {
            local.end(Duration.ofSeconds(o != null && !o.partial() ? 5 : 1));
        }
    }
}
