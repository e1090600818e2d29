package dev.vcpuemu.engine.run;

/**
 * How the inputs of one kind landed over a run (the report's {@code timing} block, DESIGN §3).
 *
 * @param hostSide   the kind has lookahead: every input must land exactly at its due boundary
 * @param exact      inputs that landed at their due boundary
 * @param late       inputs that landed after it (for a concurrent kind: after its sender's time)
 * @param lateness   how late the late ones were, in virtual nanoseconds
 */
public record InputTiming(boolean hostSide, long exact, long late, LatencySummary lateness) {}
