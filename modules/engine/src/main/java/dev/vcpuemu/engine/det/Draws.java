package dev.vcpuemu.engine.det;

/**
 * Where the actors take the random draws that decide timing (NMI arrivals, swap-in latencies,
 * evictions). Each actor still draws from its own seeded generator ({@code sampled}), so the
 * concurrent engine and the deterministic engine's {@code random} strategy get exactly today's
 * values; the deterministic engine hands every draw to its strategy, which may choose another
 * value inside the draw's support, and records it in the schedule.
 */
@FunctionalInterface
public interface Draws {

    /**
     * The value of {@code draw}: {@code sampled}, or another value in [{@code min}, {@code max}].
     * Called on the thread running the drawing actor.
     */
    long draw(Draw draw, long min, long max, long sampled);

    /** The actors' own draws, unchanged: the concurrent engine. */
    Draws OWN = (draw, min, max, sampled) -> sampled;
}
