package dev.vcpuemu.app.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.vcpuemu.app.config.ConfigProblem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.Subscribe;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The actor system of one node of a cluster (an explore farm, a run over several JVMs: src/site/markdown/cluster.md): Pekko Cluster over Artery
 * TCP, bound to the address asked for (127.0.0.1 unless told otherwise), with {@code cluster.conf}
 * over Pekko's defaults. Only cluster mode builds one: no other command opens a port.
 */
public final class ClusterNode {
    /** Every node's actor system has this name: Pekko joins only systems of one name. */
    public static final String SYSTEM = "vcpu-emu-farm";

    /** Where {@code explore --cluster} listens unless told otherwise (Pekko's own default). */
    public static final int DEFAULT_PORT = 25520;

    private ClusterNode() {
    }

    /** The farm's configuration for a node bound to {@code host:port} (port 0: any free port). */
    static Config config(String host, int port) {
        return ConfigFactory.empty()
                .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
                .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
                .withFallback(ConfigFactory.parseResources(ClusterNode.class, "cluster.conf"))
                .withFallback(ConfigFactory.load());
    }

    /**
     * Starts a node bound to {@code host:port}.
     *
     * @param option the option that chose the port, for the message when it is taken
     * @throws ConfigProblem when the address cannot be bound (a port in use, a host not of this machine)
     */
    public static <T> ActorSystem<T> start(Behavior<T> guardian, String host, int port, String option)
            throws ConfigProblem {
        try {
            return ActorSystem.create(guardian, SYSTEM, config(host, port));
        } catch (RuntimeException e) {
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            throw new ConfigProblem(option + " " + port, null, "cannot listen on " + host + ":" + port + ": "
                    + cause.getMessage());
        }
    }

    /** The address a node listens on ({@code host:port}, the port as bound). */
    public static String hostPort(ActorSystem<?> system) {
        return FarmNode.hostPort(Cluster.get(system).selfMember().address());
    }

    /** The coordinator founds the cluster: it joins itself. */
    public static void found(ActorSystem<?> system) {
        Cluster cluster = Cluster.get(system);
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }

    /** A worker joins the cluster whose seed node is {@code host:port}. */
    public static void join(ActorSystem<?> system, String host, int port) {
        Cluster.get(system).manager().tell(new JoinSeedNodes(List.of(new Address("pekko", SYSTEM, host, port))));
    }

    /**
     * Waits until this node is a member that is up; false when {@code timeout} passed first, or
     * when {@code over} says the node's work ended before it saw itself up.
     */
    public static boolean awaitUp(ActorSystem<?> system, Duration timeout, BooleanSupplier over)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Cluster cluster = Cluster.get(system);
        while (System.nanoTime() < deadline && !over.getAsBoolean()) {
            if (cluster.selfMember().status() == MemberStatus.up()) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** How many members other than this node the cluster still has (any status). */
    private static int others(ActorSystem<?> system) {
        Cluster cluster = Cluster.get(system);
        int n = 0;
        for (var m : cluster.state().getMembers()) {
            if (!m.address().equals(cluster.selfMember().address())) {
                n++;
            }
        }
        return n;
    }

    /**
     * Tells the actor of {@code ctx} {@code gone.apply(address)} when a member becomes unreachable
     * or is removed (a node watching for its coordinator).
     */
    static <T> void watchMembers(ActorContext<T> ctx, Function<Address, T> gone) {
        Cluster cluster = Cluster.get(ctx.getSystem());
        cluster.subscriptions().tell(Subscribe.create(
                ctx.messageAdapter(ClusterEvent.MemberRemoved.class, e -> gone.apply(e.member().address())),
                ClusterEvent.MemberRemoved.class));
        cluster.subscriptions().tell(Subscribe.create(
                ctx.messageAdapter(ClusterEvent.UnreachableMember.class, e -> gone.apply(e.member().address())),
                ClusterEvent.UnreachableMember.class));
    }

    /** Waits up to {@code timeout} for every other member to leave (dismissed nodes leaving on their own). */
    static void awaitOthersGone(ActorSystem<?> system, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (others(system) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** Leaves the cluster gracefully and stops the system, waiting at most {@code timeout}. */
    public static void leave(ActorSystem<?> system, Duration timeout) {
        CoordinatedShutdown.get(system).run(CoordinatedShutdown.unknownReason());
        try {
            system.getWhenTerminated().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Past the timeout the JVM exits anyway; the other members see this node leave or vanish.
        }
    }
}
