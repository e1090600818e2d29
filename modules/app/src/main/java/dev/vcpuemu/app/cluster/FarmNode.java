package dev.vcpuemu.app.cluster;

import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.det.DeterministicRunner;
import dev.vcpuemu.app.det.Explorer;
import dev.vcpuemu.app.det.StopRule;
import dev.vcpuemu.app.det.Tally;
import dev.vcpuemu.engine.DeterministicHost;
import dev.vcpuemu.engine.run.RunResult;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.delivery.ConsumerController;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One JVM of an explore farm (src/site/markdown/cluster.md), the coordinator's own included: it
 * finds the coordinator through the receptionist, says {@link Farm.Hello} with its build (again
 * every {@link #HELLO_INTERVAL} until answered: a message can be lost), and once
 * {@link Welcome}d runs the {@link Job} on {@code threads} worker threads, each a consumer of
 * ranges ({@link Worker}) with an actor system of its own for its deterministic runs, as
 * explore's threads on one JVM have. {@link Stop}: launch no runs from an index on (the one under
 * way ends, and its range comes back with what ran). {@link Finish}: the search is over; the node ends. A
 * node that loses the coordinator (unreachable or removed) ends too, with exit code 3: a worker
 * never outlives its farm.
 */
public final class FarmNode extends AbstractBehavior<FarmNode.Command> {

    public sealed interface Command permits Welcome, Refused, Stop, Finish, Listed, MemberGone, HelloAgain {}

    /** The coordinator took this node: here is the job. */
    public record Welcome(Job job, ActorRef<Farm.Command> farm) implements Command, ClusterMessage {}

    /** The coordinator will not take this node (another build). */
    public record Refused(String reason) implements Command, ClusterMessage {}

    /**
     * Launch no run of index {@code below} or more: a failing run was found there (the runs below
     * it still run, so the lowest failing run is found whichever node was quickest), or, at 0,
     * the search is over.
     */
    public record Stop(long below) implements Command, ClusterMessage {}

    /** The search is over: end this node. */
    public enum Finish implements Command, ClusterMessage { INSTANCE }

    private record Listed(Receptionist.Listing listing) implements Command {}

    private record MemberGone(Address address) implements Command {}

    /** No answer to the hello yet: say it again (a message on the wire can be lost). */
    private enum HelloAgain implements Command { INSTANCE }

    /** How often a node repeats its hello until the coordinator answers. */
    static final Duration HELLO_INTERVAL = Duration.ofSeconds(2);

    /** How a node ended: its exit code and, unless it was told to finish, why. */
    public record Ended(int exitCode, String why) {}

    /**
     * @param node   this node's host:port, as the coordinator's table shows it
     * @param ended  completed when the node is done: told to finish, refused, or lost its coordinator
     */
    public static Behavior<Command> create(String version, String node, int threads, CompletableFuture<Ended> ended) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new FarmNode(ctx, timers, version, node, threads,
                ended)));
    }

    private final String version;
    private final String node;
    private final int threads;
    private final CompletableFuture<Ended> ended;
    private final AtomicLong limit = new AtomicLong(Long.MAX_VALUE);
    private final TimerScheduler<Command> timers;
    private ActorRef<Farm.Command> farm;
    private boolean welcomed;
    private Path copy;

    private FarmNode(ActorContext<Command> ctx, TimerScheduler<Command> timers, String version, String node, int threads,
                     CompletableFuture<Ended> ended) {
        super(ctx);
        this.timers = timers;
        this.version = version;
        this.node = node;
        this.threads = threads;
        this.ended = ended;
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(Farm.KEY,
                ctx.messageAdapter(Receptionist.Listing.class, Listed::new)));
        ClusterNode.watchMembers(ctx, MemberGone::new);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Listed.class, this::onListed)
                .onMessage(Welcome.class, this::onWelcome)
                .onMessage(Refused.class, this::onRefused)
                .onMessage(Stop.class, this::onStop)
                .onMessageEquals(Finish.INSTANCE, this::onFinish)
                .onMessage(MemberGone.class, this::onMemberGone)
                .onMessageEquals(HelloAgain.INSTANCE, this::onHelloAgain)
                .onSignal(PostStop.class, signal -> onPostStop())
                .build();
    }

    private Behavior<Command> onListed(Listed l) {
        if (farm == null) {
            l.listing().getServiceInstances(Farm.KEY).stream().findFirst().ifPresent(f -> {
                farm = f;
                hello();
                timers.startTimerWithFixedDelay(HelloAgain.INSTANCE, HELLO_INTERVAL);
            });
        }
        return this;
    }

    private Behavior<Command> onHelloAgain() {
        hello();
        return this;
    }

    private void hello() {
        farm.tell(new Farm.Hello(version, node, ProcessHandle.current().pid(), threads, getContext().getSelf()));
    }

    private Behavior<Command> onWelcome(Welcome w) {
        timers.cancel(HelloAgain.INSTANCE);
        if (welcomed) {
            // The answer to a repeated hello: the workers are running already.
            return this;
        }
        welcomed = true;
        DeterministicRunner runner;
        try {
            copy = Files.createTempDirectory("vcpu-emu-node");
            runner = w.job().runner(copy);
            runner.forSeed(w.job().firstSeed());
        } catch (Exception e) {
            // Not this node's input to judge: the coordinator loaded the same text. Say why, as a range would.
            w.farm().tell(new Farm.RangeDone(node, null, Tally.Counts.NONE, 0, null,
                    "cannot load the job's topology: " + e.getMessage()));
            return this;
        }
        for (int t = 0; t < threads; t++) {
            getContext().spawn(Worker.create(w.job(), runner, w.farm(), node, limit), "worker-" + t);
        }
        return this;
    }

    private Behavior<Command> onRefused(Refused r) {
        timers.cancel(HelloAgain.INSTANCE);
        ended.complete(new Ended(2, r.reason()));
        return this;
    }

    private Behavior<Command> onStop(Stop s) {
        limit.accumulateAndGet(s.below(), Math::min);
        return this;
    }

    private Behavior<Command> onFinish() {
        limit.set(0);
        deleteCopy();
        ended.complete(new Ended(0, null));
        return this;
    }

    private Behavior<Command> onMemberGone(MemberGone g) {
        if (farm != null && farm.path().address().equals(g.address()) && !ended.isDone()) {
            limit.set(0);
            deleteCopy();
            ended.complete(new Ended(3, "lost the coordinator at " + hostPort(g.address())));
        }
        return this;
    }

    /** Stopped without a finish (the system terminated, say): the copy of the job's files goes all the same. */
    private Behavior<Command> onPostStop() {
        deleteCopy();
        return this;
    }

    private void deleteCopy() {
        if (copy != null) {
            Job.delete(copy);
            copy = null;
        }
    }

    /** {@code host:port} of a cluster address. */
    public static String hostPort(Address a) {
        return a.getHost().orElse("?") + ":" + a.getPort().map(String::valueOf).orElse("?");
    }

    /**
     * One worker thread of a node: a consumer of ranges. A range runs on the worker's own thread
     * (deterministic runs block), in an actor system kept for all its runs; when it is done the
     * worker reports it to the coordinator and only then confirms it, which asks for the next: a
     * range a dead node held is not confirmed, and goes to another worker.
     */
    static final class Worker extends AbstractBehavior<Worker.Command> {
        sealed interface Command permits Take, Ran {}

        private record Take(ConsumerController.Delivery<Farm.Range> delivery) implements Command {}

        private record Ran(ConsumerController.Delivery<Farm.Range> delivery, Farm.RangeDone done) implements Command {}

        static Behavior<Command> create(Job job, DeterministicRunner runner, ActorRef<Farm.Command> farm, String node,
                                        AtomicLong limit) {
            return Behaviors.setup(ctx -> new Worker(ctx, job, runner, farm, node, limit));
        }

        private final Job job;
        private final DeterministicRunner runner;
        private final ActorRef<Farm.Command> farm;
        private final String node;
        private final AtomicLong limit;
        private final StopRule stop;
        private final ExecutorService thread;
        private DeterministicHost host;

        private Worker(ActorContext<Command> ctx, Job job, DeterministicRunner runner, ActorRef<Farm.Command> farm,
                       String node, AtomicLong limit) throws Exception {
            super(ctx);
            this.job = job;
            this.runner = runner;
            this.farm = farm;
            this.node = node;
            this.limit = limit;
            this.stop = job.stopRule(runner.forSeed(job.firstSeed()).settings().expect());
            this.thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "farm-" + ctx.getSelf().path().name());
                t.setDaemon(true);
                return t;
            });
            ActorRef<ConsumerController.Command<Farm.Range>> consumer =
                    ctx.spawn(ConsumerController.create(Farm.RANGES), "ranges");
            consumer.tell(new ConsumerController.Start<>(ctx.messageAdapter(ConsumerController.<Farm.Range>deliveryClass(),
                    Take::new)));
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Take.class, this::onTake)
                    .onMessage(Ran.class, this::onRan)
                    .onSignal(PostStop.class, signal -> onPostStop())
                    .build();
        }

        private Behavior<Command> onTake(Take t) {
            Farm.Range range = t.delivery().message();
            getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> runRange(range), thread), (done, e) ->
                    new Ran(t.delivery(), done != null ? done
                            : new Farm.RangeDone(node, range, Tally.Counts.NONE, 0, null, String.valueOf(e))));
            return this;
        }

        private Behavior<Command> onRan(Ran r) {
            farm.tell(r.done());
            r.delivery().confirmTo().tell(ConsumerController.confirmed());
            return this;
        }

        /** Runs the range on the worker's thread, to its end, the stop's limit or its first failing run. */
        private Farm.RangeDone runRange(Farm.Range range) {
            long started = System.nanoTime();
            Tally tally = new Tally();
            Farm.FailedRun failure = null;
            try {
                for (long i = range.from(); i < range.from() + range.count() && i < limit.get(); i++) {
                    Explorer.Plan plan = new Explorer.Plan(i, job.firstSeed() + i, job.strategy(), null);
                    LoadedSettings loaded = runner.forSeed(plan.seed());
                    if (host == null) {
                        host = new DeterministicHost(loaded.settings(), loaded.config(), false);
                    }
                    RunResult r = DeterministicRunner.run(host, loaded, plan.strategy(), stop, job.maxSteps(), null, null);
                    tally.add(r);
                    if (stop.failed(r)) {
                        failure = new Farm.FailedRun(i, plan.seed(), r.traceHash(), r.endReason(), node);
                        break;
                    }
                }
                return new Farm.RangeDone(node, range, tally.counts(), (System.nanoTime() - started) / 1e9, failure, null);
            } catch (Exception | StackOverflowError e) {
                return new Farm.RangeDone(node, range, tally.counts(), (System.nanoTime() - started) / 1e9, failure,
                        String.valueOf(e));
            }
        }

        private Behavior<Command> onPostStop() {
            thread.execute(() -> {
                if (host != null) {
                    try {
                        host.close();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            thread.shutdown();
            return this;
        }
    }
}
