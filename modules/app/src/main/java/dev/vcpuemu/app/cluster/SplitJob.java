package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * What every node of a run over several JVMs runs (src/site/markdown/cluster.md): the topology as
 * the coordinator resolved it (includes, {@code --set}s and options too, so that a node on
 * another machine needs no file of its own), and its share of the guests: guest {@code g} runs
 * on node {@code g mod nodes}, the nodes numbered in address order. A guest cannot be split (its
 * vCPUs share host memory and the sleeper table by direct calls); guests share nothing but
 * virtual time, and each guest's actors have the names, so the random sources, they have on one
 * JVM.
 *
 * @param topologyName the topology file's name (no directory): what a node calls its copy
 * @param topologyText the coordinator's resolved {@code vcpu-emu} configuration, as HOCON
 * @param index        the node this job is for
 * @param guests       the topology's guests, on all nodes
 */
public record SplitJob(String topologyName, String topologyText, int nodes, int index, int guests)
        implements ClusterMessage {

    /** The job of node 0 of {@code nodes}, checked to load on a node into exactly the settings it has here. */
    public static SplitJob of(Path topology, LoadedSettings resolved, int nodes) throws IOException, ConfigProblem {
        SplitJob job = new SplitJob(topology.getFileName().toString(), Job.resolvedText(topology, resolved), nodes, 0,
                resolved.settings().topology().guests());
        Path dir = Files.createTempDirectory("vcpu-emu-job");
        try {
            if (!job.load(dir).settings().equals(resolved.settings())) {
                throw new IllegalStateException("the topology as sent to the nodes does not load as it does here");
            }
        } finally {
            Job.delete(dir);
        }
        return job;
    }

    /** The same job for node {@code i}. */
    SplitJob forNode(int i) {
        return new SplitJob(topologyName, topologyText, nodes, i, guests);
    }

    /** The topology on a node: written into {@code dir} and loaded. */
    LoadedSettings load(Path dir) throws IOException, ConfigProblem {
        return new SettingsLoader().load(Optional.of(Files.writeString(dir.resolve(topologyName), topologyText)), List.of());
    }

    /** Whether guest {@code g} runs on this job's node. */
    boolean holds(int g) {
        return g % nodes == index;
    }

    /** The guests of this job's node. */
    List<Integer> guestsHere() {
        return IntStream.range(0, guests).filter(this::holds).boxed().toList();
    }
}
