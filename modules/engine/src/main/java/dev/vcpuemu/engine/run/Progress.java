package dev.vcpuemu.engine.run;

import java.util.Map;

/** A progress sample, taken by the time-keeper at a quantum boundary. */
public record Progress(double wallSeconds, long simulatedNanos, Map<String, Long> counters, long findings,
                       double microOpsPerSecond, double messagesPerSecond) {}
