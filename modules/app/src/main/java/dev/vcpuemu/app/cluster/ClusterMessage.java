package dev.vcpuemu.app.cluster;

/**
 * The mark of every message that crosses nodes (src/site/markdown/cluster.md): such messages are bound to
 * Jackson CBOR in {@code cluster.conf}, so that nothing else can slip onto the wire by Java
 * serialization, and {@code ClusterMessagesTest} round-trips each of them through Pekko's
 * serialization. Records only, of values, enums and actor references.
 */
public interface ClusterMessage {
}
