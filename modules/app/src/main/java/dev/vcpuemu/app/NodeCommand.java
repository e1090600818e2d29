package dev.vcpuemu.app;

import dev.vcpuemu.app.cluster.ClusterNode;
import dev.vcpuemu.app.cluster.FarmNode;
import dev.vcpuemu.app.cluster.FarmSearch;
import dev.vcpuemu.app.cluster.SplitNode;
import dev.vcpuemu.app.config.ConfigProblem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * {@code node --join HOST:PORT}: a worker JVM of an explore farm or a node of a run over several
 * JVMs (src/site/markdown/cluster.md). It joins the coordinator's cluster, says hello with its
 * build, and runs the ranges of runs it pulls (a farm) or its share of the guests (a run); it
 * ends when the coordinator dismisses it (exit 0), refuses it (another build: exit 2), aborts
 * the run or is lost (exit 3). A join that does not succeed within {@code --join-timeout} is bad input (exit 2).
 */
@Command(name = "node", description = "Join an explore farm or a run over several JVMs (explore --cluster and "
        + "run --cluster-nodes print the command).",
        exitCodeList = {"0:dismissed by the coordinator at the end of the search or run",
                "2:bad input: a bad option, a port in use, a join that timed out, or refused (another build)",
                "3:lost the coordinator (unreachable or gone), or the run was aborted"})
final class NodeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--join", paramLabel = "HOST:PORT", required = true,
            description = "The coordinator's address, as explore --cluster prints it.")
    String join;

    @Option(names = "--bind", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "The address this node listens on, which the others must reach. Default: ${DEFAULT-VALUE}.")
    String bind;

    @Option(names = "--port", paramLabel = "P", defaultValue = "0",
            description = "The port this node listens on; 0 (default): any free port.")
    int port;

    @Option(names = "--parallelism", paramLabel = "P", description = "Worker threads of an explore farm (default: the number of cores); a run's part uses its topology's engine.parallelism.")
    Integer parallelism;

    @Option(names = "--join-timeout", paramLabel = "T", defaultValue = "20s",
            description = "Give up when the cluster was not joined within T. Default: ${DEFAULT-VALUE}.")
    String joinTimeout;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String[] hp = join.split(":", -1);
        int seedPort;
        Duration timeout;
        try {
            if (hp.length != 2 || hp[0].isBlank()) {
                throw new ConfigProblem("--join " + join, null, "expected HOST:PORT, e.g. 127.0.0.1:25520");
            }
            try {
                seedPort = Integer.parseInt(hp[1]);
            } catch (NumberFormatException e) {
                throw new ConfigProblem("--join " + join, null, "the port is not a number");
            }
            if (seedPort < 1 || seedPort > 65535 || port < 0 || port > 65535) {
                throw new ConfigProblem(seedPort < 1 || seedPort > 65535 ? "--join " + join : "--port " + port, null,
                        "a port is 1 to 65535 (0 for --port: any free port)");
            }
            if (parallelism != null && parallelism < 1) {
                throw new ConfigProblem("--parallelism " + parallelism, null, "must be at least 1");
            }
            timeout = ExploreCommand.parseDuration("--join-timeout", joinTimeout);
        } catch (ConfigProblem p) {
            err.println("node: " + p.getMessage());
            return Main.BAD_INPUT;
        }
        int threads = parallelism != null ? parallelism : Runtime.getRuntime().availableProcessors();
        CompletableFuture<FarmNode.Ended> ended = new CompletableFuture<>();
        ActorSystem<Void> system;
        try {
            // The coordinator offers an explore farm or a run over several JVMs: the node serves whichever it finds.
            system = ClusterNode.start(Behaviors.setup(ctx -> {
                String self = ClusterNode.hostPort(ctx.getSystem());
                ctx.spawn(FarmNode.create(FarmSearch.build(), self, threads, ended), "farm-node");
                ctx.spawn(SplitNode.create(FarmSearch.build(), self, ended), "split-node");
                return Behaviors.empty();
            }), bind, port, "--port");
        } catch (ConfigProblem p) {
            err.println("node: " + p.getMessage());
            return Main.BAD_INPUT;
        }
        ClusterNode.join(system, hp[0], seedPort);
        // A node may be at work before it sees itself up (a farm hands out ranges at its hello), and
        // no node is up before the members converge: a coordinator lost before that ends the work as
        // lost, not as a join that never happened.
        boolean up = ClusterNode.awaitUp(system, timeout, ended::isDone);
        if (!up && !ended.isDone()) {
            err.printf("node: --join %s: could not join the cluster within %s (is explore --cluster running there,"
                    + " and is the port open?)%n", join, ValidateCommand.human(timeout));
            system.terminate();
            return Main.BAD_INPUT;
        }
        if (up) {
            // Worker threads serve a farm; a run's part uses its topology's engine.parallelism.
            o.printf("node %s (pid %d, %d worker threads for a farm): joined the cluster at %s%n",
                    ClusterNode.hostPort(system), ProcessHandle.current().pid(), threads, join);
            o.flush();
        }
        FarmNode.Ended end = ended.get();
        if (end.why() != null) {
            err.println("node: " + end.why());
        }
        if (end.exitCode() == Main.OK) {
            ClusterNode.leave(system, Duration.ofSeconds(10));
            o.println("node: dismissed by the coordinator");
        } else {
            // Refused or orphaned: nothing to hand over, and no cluster worth leaving gracefully.
            system.terminate();
        }
        o.flush();
        return end.exitCode();
    }
}
