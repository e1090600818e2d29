package dev.vcpuemu.model.vcpu;

/**
 * Receives every event a vCPU records (deliveries, injections, waits, wakes, task switches,
 * findings) as it happens, with its virtual time: the deterministic engine hashes them into the
 * run's trace and can write them to a trace file.
 */
public interface EventSink {
    void event(int vcpu, long atNanos, String what, long arg);
}
