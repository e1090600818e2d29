package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.app.cluster.Farm;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.det.Estimate;
import dev.vcpuemu.engine.io.AtomicFiles;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What {@code explore --estimate} prints and writes: the rate of a finding kind per run, per
 * million not-presents and per simulated hour with their 95 % intervals, on stdout and as
 * {@code estimate.json} in the explore's output folder (one estimate, or one row per era pair).
 */
final class EstimateReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path topology;
    private final Duration runDuration;
    private final Path out;

    private EstimateReport(Path topology, Duration runDuration, Path out) {
        this.topology = topology;
        this.runDuration = runDuration;
        this.out = out;
    }

    /** For the runs of {@code base}'s duration over {@code topology}, written into {@code out}. */
    static EstimateReport of(Path topology, LoadedSettings base, Path out) {
        return new EstimateReport(topology, base.settings().run().duration(), out);
    }

    /**
     * The estimate on stdout and, as estimate.json, beside the explore's report; from a farm, with
     * a {@code cluster} block: each node's address, PID, worker threads and runs.
     */
    int print(Estimate e, List<Farm.Node> nodes, PrintWriter o) throws IOException {
        o.printf("estimate %s: %,d runs of %s (%s simulated in all), %,d not-presents, %,d findings of the kind%n",
                e.kind(), e.runs(), ValidateCommand.human(runDuration),
                ValidateCommand.human(Duration.ofNanos(e.simulatedNanos())), e.notPresents(), e.findings());
        Estimate.Interval run = e.perRun();
        o.printf("  per run                 %10s %%   95 %% interval %s-%s %%   (%,d of %,d runs)%n", num(100 * run.value()),
                num(100 * run.low()), num(100 * run.high()), e.runsWith(), e.runs());
        Estimate.Interval np = e.perMillionNotPresents();
        o.printf("  per 10^6 not-presents   %10s     95 %% interval %s-%s%n", num(np.value()), num(np.low()), num(np.high()));
        Estimate.Interval hour = e.perSimulatedHour();
        o.printf("  per simulated hour      %10s     95 %% interval %s-%s%n", num(hour.value()), num(hour.low()),
                num(hour.high()));
        ObjectNode json = JSON.createObjectNode().put("topology", topology.toString());
        put(json, e);
        if (!nodes.isEmpty()) {
            var rows = json.putObject("cluster").putArray("nodes");
            nodes.forEach(n -> rows.addObject().put("address", n.address()).put("pid", n.pid())
                    .put("threads", n.threads()).put("runs", n.runs()));
        }
        return write(json, o);
    }

    /** One row per era pair: the same seeds, the same duration, only the eras differ. */
    int printAll(List<String> labels, List<Estimate> estimates, PrintWriter o) throws IOException {
        if (estimates.isEmpty()) {
            o.println("explore: stopped before any era pair ran");
            return Main.OK;
        }
        Estimate any = estimates.get(0);
        // A time limit or a stop signal can leave the last pairs with fewer runs: then each row says its own.
        boolean sameRuns = estimates.stream().mapToLong(Estimate::runs).distinct().count() == 1;
        String duration = ValidateCommand.human(runDuration);
        if (sameRuns) {
            o.printf("estimate %s: %,d runs of %s per era pair, seeds from the same base%n", any.kind(), any.runs(),
                    duration);
        } else {
            o.printf("estimate %s: runs of %s, as many per era pair as it says (the search was cut short), seeds from"
                    + " the same base%n", any.kind(), duration);
        }
        o.printf("  %-28s %24s %30s %30s%n", "host/guest", "per run % (95 %)", "per 10^6 not-presents (95 %)",
                "per simulated hour (95 %)");
        ObjectNode json = JSON.createObjectNode().put("topology", topology.toString());
        var rows = json.putArray("eras");
        for (int i = 0; i < estimates.size(); i++) {
            Estimate e = estimates.get(i);
            Estimate.Interval run = e.perRun();
            Estimate.Interval np = e.perMillionNotPresents();
            Estimate.Interval hour = e.perSimulatedHour();
            o.printf("  %-28s %24s %30s %30s%n", sameRuns ? labels.get(i)
                            : String.format("%s (%,d runs)", labels.get(i), e.runs()),
                    num(100 * run.value()) + " (" + num(100 * run.low()) + "-" + num(100 * run.high()) + ")",
                    num(np.value()) + " (" + num(np.low()) + "-" + num(np.high()) + ")",
                    num(hour.value()) + " (" + num(hour.low()) + "-" + num(hour.high()) + ")");
            put(rows.addObject().put("eras", labels.get(i)), e);
        }
        return write(json, o);
    }

    private int write(ObjectNode json, PrintWriter o) throws IOException {
        Path file = out.resolve("estimate.json");
        AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        o.println("Estimate: " + file);
        o.flush();
        return Main.OK;
    }

    private static void put(ObjectNode json, Estimate e) {
        json.put("kind", e.kind().name()).put("runs", e.runs()).put("runsWith", e.runsWith())
                .put("findings", e.findings()).put("notPresents", e.notPresents()).put("simulatedNanos", e.simulatedNanos());
        put(json.putObject("perRun"), e.perRun());
        put(json.putObject("perMillionNotPresents"), e.perMillionNotPresents());
        put(json.putObject("perSimulatedHour"), e.perSimulatedHour());
    }

    private static void put(ObjectNode node, Estimate.Interval i) {
        node.put("value", i.value()).put("low95", i.low()).put("high95", i.high());
    }

    /** Three significant figures, thousands grouped. */
    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v == 0) {
            return "0";
        }
        BigDecimal d = new BigDecimal(v).round(new MathContext(3));
        return d.scale() > 0 ? d.toPlainString() : String.format("%,d", d.longValue());
    }
}
