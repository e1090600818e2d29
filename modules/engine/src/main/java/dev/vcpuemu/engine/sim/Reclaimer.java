package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.det.Draw;
import dev.vcpuemu.engine.det.Draws;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The host reclaimer's steady churn (DESIGN §1.1): {@code evict-rate} evictions per virtual
 * millisecond over the guest, a Poisson process, each landing on a vCPU chosen at random, which
 * evicts one of its resident frames at that virtual time. Like an NMI source it works one
 * quantum ahead ({@link Emit}), so each eviction lands at exactly its boundary (DESIGN §3); the
 * times and targets are drawn one after the other, whatever the quanta. It never holds a quantum
 * open: an eviction due while its vCPU is blocked changes nothing that vCPU could see before it
 * runs again. Each time and each target is a choice point ({@link Draw.Site#EVICTION_TIME},
 * {@link Draw.Site#EVICTION_VICTIM}). (Reclaim to stay under {@code resident-limit} happens where
 * a frame is charged, in the vCPU's host half.)
 */
public final class Reclaimer extends AbstractBehavior<Reclaimer.Command> {

    public sealed interface Command permits Emit, Freeze {}

    /**
     * Send every eviction due before {@code beforeNanos} that was not sent yet; with
     * {@code wantStats}, answer with the messages received so far (a progress sample).
     */
    public record Emit(long beforeNanos, boolean wantStats) implements Command {}

    public record Freeze(ActorRef<StatsCollector.Command> replyTo) implements Command {}

    public static Behavior<Command> create(String name, int guest, Settings settings,
                                           List<ActorRef<VcpuActor.Command>> vcpus,
                                           ActorRef<TimeKeeper.Command> timeKeeper, Draws draws) {
        return Behaviors.setup(ctx -> new Reclaimer(ctx, name, guest, settings, vcpus, timeKeeper, draws));
    }

    private final String name;
    private final List<ActorRef<VcpuActor.Command>> vcpus;
    private final ActorRef<TimeKeeper.Command> timeKeeper;
    private final SplittableRandom rng;
    private final Draws draws;
    private final int guest;
    private long times;
    private long victims;
    private final double meanGapNanos;
    private final long[][] batch;
    private final int[] sizes;
    private long nextDue;
    private long sent;
    private long received;

    private Reclaimer(ActorContext<Command> ctx, String name, int guest, Settings settings,
                      List<ActorRef<VcpuActor.Command>> vcpus, ActorRef<TimeKeeper.Command> timeKeeper, Draws draws) {
        super(ctx);
        this.name = name;
        this.guest = guest;
        this.draws = draws;
        this.vcpus = vcpus;
        this.timeKeeper = timeKeeper;
        this.rng = Seeds.forActor(settings.run().seed(), name);
        double perMilli = settings.host().evictPerMilli();
        this.meanGapNanos = perMilli > 0 ? 1_000_000.0 / perMilli : Double.POSITIVE_INFINITY;
        this.batch = new long[vcpus.size()][8];
        this.sizes = new int[vcpus.size()];
        this.nextDue = perMilli > 0 ? gap() : Long.MAX_VALUE;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Emit.class, this::onEmit)
                .onMessage(Freeze.class, this::onFreeze)
                .build();
    }

    private Behavior<Command> onEmit(Emit e) {
        received++;
        while (nextDue < e.beforeNanos()) {
            int v = (int) draws.draw(Draw.evictionVictim(guest, victims++), 0, vcpus.size() - 1,
                    rng.nextInt(vcpus.size()));
            if (sizes[v] == batch[v].length) {
                batch[v] = Arrays.copyOf(batch[v], 2 * sizes[v]);
            }
            batch[v][sizes[v]++] = nextDue;
            nextDue += gap();
        }
        for (int v = 0; v < vcpus.size(); v++) {
            if (sizes[v] > 0) {
                vcpus.get(v).tell(new VcpuActor.Evictions(Arrays.copyOf(batch[v], sizes[v])));
                sizes[v] = 0;
                sent++;
            }
        }
        sent++;
        if (e.wantStats()) {
            // The evictions themselves are counted by the vCPUs that carry them out.
            Counters stats = new Counters();
            stats.add(Counter.MESSAGES, received);
            timeKeeper.tell(new TimeKeeper.Done(stats, null, Long.MAX_VALUE, true));
        } else {
            timeKeeper.tell(TimeKeeper.Done.PASSIVE);
        }
        return this;
    }

    /** The exponential gap to the next eviction, at least a nanosecond. */
    private long gap() {
        return draws.draw(Draw.evictionTime(guest, times++), 1, Long.MAX_VALUE,
                Math.max(1, (long) (-Math.log(1.0 - rng.nextDouble()) * meanGapNanos)));
    }

    private Behavior<Command> onFreeze(Freeze f) {
        f.replyTo().tell(new StatsCollector.Frozen(name, null, sent, received, Map.of(), null));
        return this;
    }
}
