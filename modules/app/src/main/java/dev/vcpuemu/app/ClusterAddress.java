package dev.vcpuemu.app;

import dev.vcpuemu.app.cluster.ClusterNode;
import picocli.CommandLine.Option;

/**
 * {@code --bind} and {@code --port}: where this JVM listens in cluster mode ({@code explore}'s
 * farm, {@code run} over several JVMs; src/site/markdown/cluster.md). No port is opened outside
 * cluster mode.
 */
final class ClusterAddress {
    @Option(names = "--bind", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "In cluster mode: the address to listen on, which every other node must reach. "
                    + "Default: ${DEFAULT-VALUE}.")
    String bind;

    @Option(names = "--port", paramLabel = "P",
            description = "In cluster mode: the port to listen on (default 25520; with --local-cluster any free port).")
    Integer port;

    /**
     * Null when the port fits, else the one-line problem.
     *
     * @param clustered whether a cluster option was given
     * @param options   how the cluster options are named, for the message
     */
    String problem(boolean clustered, String options) {
        if (!clustered && port != null) {
            return "--port: only with " + options;
        }
        if (port != null && (port < 0 || port > 65535)) {
            return "--port: a port is 0 to 65535, got " + port;
        }
        return null;
    }

    /** The port to listen on: the one given, else any free one on this machine's own cluster, else 25520. */
    int port(boolean local) {
        return port != null ? port : local ? 0 : ClusterNode.DEFAULT_PORT;
    }

    /**
     * What another machine's {@code node --join} must add: its own {@code --bind} (a node elsewhere
     * must listen on an address this JVM can reach, not on its own loopback), unless this one
     * listens on loopback itself.
     */
    String bindHint(String who) {
        return bind.startsWith("127.") || bind.equals("localhost") ? "" : " --bind ADDRESS-OF-THE-" + who;
    }
}
