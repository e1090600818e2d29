package dev.vcpuemu.engine.sim;

import java.util.List;

/**
 * An exception that escaped a vCPU's model, carrying that vCPU's last events so the report can
 * show what led to it. Thrown out of the actor: Pekko stops the actor and its parent, the
 * machine, turns the failure into the run's {@code Fault}.
 */
final class VcpuFault extends RuntimeException {
    private final transient List<String> lastEvents;

    VcpuFault(RuntimeException cause, List<String> lastEvents) {
        super(cause.toString(), cause);
        this.lastEvents = List.copyOf(lastEvents);
    }

    List<String> lastEvents() {
        return lastEvents;
    }
}
