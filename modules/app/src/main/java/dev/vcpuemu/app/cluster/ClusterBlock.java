package dev.vcpuemu.app.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.model.stats.Counter;

/**
 * The report's part about a run over several JVMs: {@code partial} (true when a node's loss or
 * failure cut the run short) and a {@code cluster} block: each node's address, PID, guests,
 * vCPUs, micro-ops and the wall time it waited at the rounds' barrier; the rounds decided; the
 * round messages that crossed between JVMs, per round ({@code 2 × (nodes − 1)}).
 */
public final class ClusterBlock {
    private ClusterBlock() {
    }

    public static ObjectNode put(ObjectNode report, Split.Outcome o) {
        report.put("partial", o.partial());
        ObjectNode c = report.putObject("cluster");
        ArrayNode nodes = c.putArray("nodes");
        for (Split.Node node : o.nodes()) {
            ObjectNode n = nodes.addObject();
            n.put("index", node.index());
            n.put("address", node.address());
            n.put("pid", node.pid());
            ArrayNode guests = n.putArray("guests");
            node.guests().forEach(guests::add);
            if (node.index() >= o.parts().size()) {
                continue; // cut short: no part came back
            }
            SplitPart p = o.parts().get(node.index());
            n.put("vcpus", p.vcpus());
            n.put("microOps", p.counters().getOrDefault(Counter.MICRO_OPS.key, 0L));
            n.put("messages", p.counters().getOrDefault(Counter.MESSAGES.key, 0L));
            n.put("barrierWaitSeconds", p.barrierWaitNanos() / 1e9);
            n.put("findings", p.findings().values().stream().mapToLong(Long::longValue).sum());
            ObjectNode latencies = n.putObject("latencyCounts");
            p.latencySummaries().forEach((k, l) -> latencies.put(k, l.count()));
            n.put("conservation", p.conservation());
        }
        c.put("rounds", o.rounds());
        if (o.crossNode() != null) {
            ObjectNode x = c.putObject("crossNodeMessages");
            x.put("sent", o.crossNode().sent() + o.crossNode().nodesSent());
            x.put("received", o.crossNode().received() + o.crossNode().nodesReceived());
            x.put("perRound", o.rounds() == 0 ? 0 : (double) (o.crossNode().sent() + o.crossNode().nodesSent()) / o.rounds());
            x.put("dropped", o.crossNode().dropped());
        }
        return report;
    }
}
