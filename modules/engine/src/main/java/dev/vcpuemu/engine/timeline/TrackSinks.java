package dev.vcpuemu.engine.timeline;

import dev.vcpuemu.model.trace.EventSink;

/** Where each vCPU and each paging worker of a run reports its events: a {@link Timeline}, or a test's probe. */
public interface TrackSinks {
    EventSink vcpu(int guest, int vcpu);

    EventSink worker(int guest, int worker);
}
