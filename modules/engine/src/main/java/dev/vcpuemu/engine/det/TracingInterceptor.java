package dev.vcpuemu.engine.det;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Feeds every message an actor receives into the run's {@link Trace}, then lets the actor handle it. */
public final class TracingInterceptor<T> extends BehaviorInterceptor<T, T> {
    private final Trace trace;
    private final int actor;

    private TracingInterceptor(Class<T> type, Trace trace, int actor) {
        super(type);
        this.trace = trace;
        this.actor = actor;
    }

    /** {@code behavior} itself when there is no trace (concurrent engine), else it wrapped. */
    public static <T> Behavior<T> traced(Class<T> type, Trace trace, int actor, Behavior<T> behavior) {
        return trace == null ? behavior : Behaviors.intercept(() -> new TracingInterceptor<>(type, trace, actor), behavior);
    }

    @Override
    public Behavior<T> aroundReceive(TypedActorContext<T> ctx, T msg, ReceiveTarget<T> target) {
        trace.message(actor, msg);
        return target.apply(ctx, msg);
    }
}
