package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.finding.FindingKind;

/**
 * Where the parts of one vCPU record what happened: trace events, and findings (broken
 * invariants, DESIGN §1.6). The vCPU stamps each with its virtual time and id. Recording is
 * observation only: nothing the model decides may depend on it.
 */
public interface Recorder {
    void event(TraceEvent what, long arg);

    /** A finding, with the vCPU's last events; recorded, never thrown. */
    void finding(FindingKind kind, String detail);
}
