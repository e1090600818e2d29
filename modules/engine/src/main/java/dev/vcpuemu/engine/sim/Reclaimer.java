package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.memory.HostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * The host reclaimer (DESIGN §1.1): each quantum it evicts random resident frames until the
 * resident set is under {@code host.memory.resident-limit}, plus {@code evict-rate} frames per
 * virtual millisecond of churn, so that guest accesses keep finding non-resident frames.
 */
public final class Reclaimer extends AbstractBehavior<Reclaimer.Command> {

    public sealed interface Command permits Tick, Freeze {}

    public record Tick(long endNanos) implements Command {}

    public record Freeze(ActorRef<StatsCollector.Command> replyTo) implements Command {}

    public static Behavior<Command> create(String name, Settings settings, HostMemory memory,
                                           ActorRef<TimeKeeper.Command> timeKeeper) {
        return Behaviors.setup(ctx -> new Reclaimer(ctx, name, settings, memory, timeKeeper));
    }

    private static final int PROBES = 64;

    private final String name;
    private final HostMemory memory;
    private final ActorRef<TimeKeeper.Command> timeKeeper;
    private final SplittableRandom rng;
    private final int limit;
    private final double evictPerNano;
    private final Counters counters = new Counters();
    private double carry;
    private long evictedUpTo;
    private long sent;
    private long received;

    private Reclaimer(ActorContext<Command> ctx, String name, Settings settings, HostMemory memory,
                      ActorRef<TimeKeeper.Command> timeKeeper) {
        super(ctx);
        this.name = name;
        this.memory = memory;
        this.timeKeeper = timeKeeper;
        this.rng = Seeds.forActor(settings.run().seed(), name);
        this.limit = (int) Math.floor(memory.frames() * settings.host().residentLimit());
        this.evictPerNano = settings.host().evictPerMilli() / 1_000_000.0;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Tick.class, this::onTick)
                .onMessage(Freeze.class, this::onFreeze)
                .build();
    }

    private Behavior<Command> onTick(Tick t) {
        received++;
        // From where the last tick ended, not from this one's start: quanta the time-keeper
        // jumped over (nothing due on any vCPU) still had their churn.
        carry += evictPerNano * (t.endNanos() - evictedUpTo);
        evictedUpTo = t.endNanos();
        int churn = (int) carry;
        carry -= churn;
        while (churn-- > 0) {
            evictOne();
        }
        while (memory.residentCount() > limit) {
            if (!evictOne()) {
                break;
            }
        }
        sent++;
        timeKeeper.tell(TimeKeeper.Done.PASSIVE);
        return this;
    }

    /** Evicts one random resident frame; gives up after a bounded number of probes. */
    private boolean evictOne() {
        for (int i = 0; i < PROBES; i++) {
            if (memory.evict(rng.nextInt(memory.frames()))) {
                counters.inc(Counter.PAGES_EVICTED);
                return true;
            }
        }
        return false;
    }

    private Behavior<Command> onFreeze(Freeze f) {
        f.replyTo().tell(new StatsCollector.Frozen(name, counters.copy(), sent, received, Map.of(), null));
        return this;
    }
}
