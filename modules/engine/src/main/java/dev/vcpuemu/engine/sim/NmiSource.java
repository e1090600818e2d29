package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import dev.vcpuemu.engine.det.Draw;
import dev.vcpuemu.engine.det.Draws;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An NMI source (perf, watchdog; reference §1.1 actor 5): every {@code interval} (± jitter) of
 * virtual time it asserts an NMI on each target vCPU. Each NMI carries its due time and whether
 * the handler will read user memory with the source's probability.
 *
 * <p>It works one quantum ahead (DESIGN §3): asked by the time-keeper to {@link Emit} what falls
 * due before the end of the next quantum, it sends those NMIs now, so every NMI is in its vCPU's
 * mailbox before the quantum it is due in opens, and lands at exactly its boundary. The arrival
 * times are drawn one after the other from the source's own generator, whatever the quanta,
 * each a choice point ({@link Draw.Site#NMI_ARRIVAL}, numbered 0, 1, …): the phase in
 * [0, interval), then each gap in the jitter's range.
 */
public final class NmiSource extends AbstractBehavior<NmiSource.Command> {

    public sealed interface Command permits Emit, Freeze {}

    /**
     * Send every NMI due before {@code beforeNanos} that was not sent yet; with
     * {@code wantStats}, answer with the counters and messages received so far (a progress sample).
     */
    public record Emit(long beforeNanos, boolean wantStats) implements Command {}

    public record Freeze(ActorRef<StatsCollector.Command> replyTo) implements Command {}

    /**
     * @param guest the guest it belongs to, and {@code index} its place in {@code nmi.sources}:
     *              with the draw number they name its draws
     */
    public static Behavior<Command> create(String name, int guest, int index, Settings.NmiSource source, long seed,
                                           List<ActorRef<VcpuActor.Command>> targets,
                                           ActorRef<TimeKeeper.Command> timeKeeper, Draws draws) {
        return Behaviors.setup(ctx -> new NmiSource(ctx, name, guest, index, source, seed, targets, timeKeeper,
                draws));
    }

    private final String name;
    private final Settings.NmiSource source;
    private final List<ActorRef<VcpuActor.Command>> targets;
    private final ActorRef<TimeKeeper.Command> timeKeeper;
    private final SplittableRandom rng;
    private final Draws draws;
    private final int guest;
    private final int index;
    private final long minGap;
    private final long maxGap;
    private long drawn;
    private final Counters counters = new Counters();
    private long nextDue;
    private long sent;
    private long received;

    private NmiSource(ActorContext<Command> ctx, String name, int guest, int index, Settings.NmiSource source,
                      long seed, List<ActorRef<VcpuActor.Command>> targets, ActorRef<TimeKeeper.Command> timeKeeper,
                      Draws draws) {
        super(ctx);
        this.name = name;
        this.guest = guest;
        this.index = index;
        this.source = source;
        this.targets = targets;
        this.timeKeeper = timeKeeper;
        this.draws = draws;
        this.rng = Seeds.forActor(seed, name);
        this.minGap = Math.max(1, (long) (source.intervalNanos() * (1 - source.jitter())));
        this.maxGap = Math.max(1, (long) (source.intervalNanos() * (1 + source.jitter())));
        this.nextDue = draws.draw(Draw.nmi(guest, index, drawn++), 0, Math.max(0, source.intervalNanos() - 1),
                (long) (rng.nextDouble() * source.intervalNanos()));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Emit.class, this::onEmit)
                .onMessage(Freeze.class, this::onFreeze)
                .build();
    }

    /**
     * Sends what is due before the horizon. Its answer names the earliest of them (their vCPUs may
     * report before the NMIs reach them, so the quantum they fall in must not be skipped), or else
     * the next NMI still to send.
     */
    private Behavior<Command> onEmit(Emit e) {
        received++;
        long earliest = nextDue;
        while (nextDue < e.beforeNanos()) {
            for (ActorRef<VcpuActor.Command> target : targets) {
                target.tell(new VcpuActor.Nmi(nextDue, source.userReadProbability()));
                counters.inc(Counter.NMIS_SENT);
                sent++;
            }
            double jitter = source.jitter() * (2 * rng.nextDouble() - 1);
            long gap = Math.max(1, (long) (source.intervalNanos() * (1 + jitter)));
            nextDue += draws.draw(Draw.nmi(guest, index, drawn++), minGap, maxGap, gap);
        }
        sent++;
        if (e.wantStats()) {
            Counters stats = counters.copy();
            stats.add(Counter.MESSAGES, received);
            timeKeeper.tell(new TimeKeeper.Done(stats, null, earliest, false));
        } else {
            timeKeeper.tell(TimeKeeper.Done.of(earliest, false));
        }
        return this;
    }

    private Behavior<Command> onFreeze(Freeze f) {
        f.replyTo().tell(new StatsCollector.Frozen(name, counters.copy(), sent, received, Map.of(), null));
        return this;
    }
}
