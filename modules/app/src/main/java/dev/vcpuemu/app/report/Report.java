package dev.vcpuemu.app.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.engine.run.LatencySummary;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.VcpuTime;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.engine.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The JSON report of DESIGN §4. Its field names are a stable contract: add fields freely,
 * never rename these. It is written to a temporary file beside the target and moved over it,
 * so an interrupted write never leaves half a report in place of a good one.
 */
public final class Report {
    public static final int SCHEMA = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Report() {
    }

    /** @param engine "concurrent" or "deterministic" */
    public static ObjectNode build(String command, String engine, String version, String source, Settings s,
                                   RunResult r, Expectations e) {
        ObjectNode root = JSON.createObjectNode();
        root.put("schema", SCHEMA);
        root.put("version", version);
        root.put("command", command);
        root.put("engine", engine);
        root.put("seed", s.run().seed());

        ObjectNode topology = root.putObject("topology");
        topology.put("file", source);
        topology.put("vcpus", s.topology().vcpus());
        topology.put("guests", s.topology().guests());
        topology.put("totalVcpus", s.topology().totalVcpus());
        topology.put("hostEra", s.host().era().name().toLowerCase());
        topology.put("guestEra", s.guest().era().name().toLowerCase());
        topology.put("asyncPf", s.guest().asyncPf());
        topology.put("preempt", s.guest().preempt());
        topology.put("tasksPerVcpu", s.guest().tasksPerVcpu());
        topology.put("pagingWorkers", s.host().pagingWorkers());
        topology.put("nmiSources", s.nmi().sources().size());
        topology.put("quantumNanos", s.engine().quantumNanos());
        topology.put("microOpsPerStep", s.engine().microOpsPerStep());
        topology.put("mailboxThroughput", s.engine().mailboxThroughput());

        root.put("wallSeconds", r.wallSeconds());
        root.put("simulatedSeconds", r.simulatedNanos() / 1e9);
        root.put("endReason", r.endReason());
        ObjectNode counters = root.putObject("counters");
        r.counters().forEach(counters::put);
        long microOps = r.counters().getOrDefault("microOps", 0L);
        long messages = r.counters().getOrDefault("messages", 0L);
        root.put("microOpsPerSecond", r.wallSeconds() > 0 ? microOps / r.wallSeconds() : 0);
        root.put("messagesPerSecond", r.wallSeconds() > 0 ? messages / r.wallSeconds() : 0);

        ObjectNode latencies = root.putObject("latencies");
        r.latencies().forEach((k, l) -> putLatency(latencies.putObject(k), l));

        // How each kind of input landed: host-side inputs must all be exact (DESIGN §3).
        ObjectNode timing = root.putObject("timing");
        r.timing().forEach((k, t) -> {
            ObjectNode x = timing.putObject(k);
            x.put("hostSide", t.hostSide());
            x.put("exact", t.exact());
            x.put("late", t.late());
            x.put("latenessP50Nanos", t.lateness().p50());
            x.put("latenessP99Nanos", t.lateness().p99());
            x.put("latenessMaxNanos", t.lateness().max());
        });

        // Per vCPU, where its virtual time went; the parts add up to the simulated time it ran.
        ArrayNode times = root.putArray("vcpuTimes");
        for (RunResult.VcpuTimes t : r.vcpuTimes()) {
            ObjectNode x = times.addObject();
            x.put("guest", t.guest());
            x.put("vcpu", t.vcpu());
            for (VcpuTime use : VcpuTime.values()) {
                x.put(use.key, t.get(use));
            }
        }

        ObjectNode findings = root.putObject("findings");
        for (FindingKind k : FindingKind.values()) {
            findings.put(k.name(), r.findings().getOrDefault(k, 0L));
        }
        ArrayNode examples = root.putArray("findingExamples");
        for (Finding f : r.findingExamples()) {
            ObjectNode x = examples.addObject();
            x.put("kind", f.kind().name());
            x.put("vcpu", f.vcpu());
            x.put("guest", f.guest());
            x.put("atNanos", f.atNanos());
            x.put("detail", f.detail());
            ArrayNode events = x.putArray("events");
            f.events().forEach(events::add);
        }
        ObjectNode conservation = root.putObject("conservation");
        conservation.put("held", r.conservation().held());
        conservation.put("detail", r.conservation().detail());

        ObjectNode expectations = root.putObject("expectations");
        expectations.put("met", e.met());
        ArrayNode checks = expectations.putArray("checks");
        for (Expectations.Check c : e.checks()) {
            ObjectNode x = checks.addObject();
            x.put("expect", c.expect());
            x.put("actual", c.actual());
            x.put("met", c.met());
        }
        if (r.fault() != null) {
            ObjectNode fault = root.putObject("fault");
            fault.put("actor", r.fault().actor());
            fault.put("error", r.fault().error());
            ArrayNode stack = fault.putArray("stackTrace");
            r.fault().stackTrace().forEach(stack::add);
            ArrayNode events = fault.putArray("lastEvents");
            r.fault().lastEvents().forEach(events::add);
        }
        // Only the deterministic engine has a reproducible trace to hash (null otherwise).
        root.put("traceHash", r.traceHash());
        root.put("modelHash", r.modelHash());
        if (r.schedulingSteps() >= 0) {
            root.put("schedulingSteps", r.schedulingSteps());
        }
        return root;
    }

    /** One latency's percentiles, in virtual nanoseconds. */
    public static void putLatency(ObjectNode x, LatencySummary l) {
        x.put("count", l.count());
        x.put("meanNanos", l.mean());
        x.put("p50Nanos", l.p50());
        x.put("p90Nanos", l.p90());
        x.put("p99Nanos", l.p99());
        x.put("p999Nanos", l.p999());
        x.put("maxNanos", l.max());
    }

    public static void write(Path target, ObjectNode report) throws IOException {
        AtomicFiles.writeString(target, JSON.writeValueAsString(report));
    }
}
