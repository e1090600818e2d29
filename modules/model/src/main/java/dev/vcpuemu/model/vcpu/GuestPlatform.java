package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.abi.ApfArea;
import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.guest.program.Platform;
import dev.vcpuemu.model.host.HostApf;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * The machine as the guest kernel sees it: host memory behind the EPT, the paravirtual MSRs and
 * CPUID, the shared area, the other vCPUs. WRMSR, HLT and CR0.PG changes are VM exits: the host
 * runs its completion check at the next entry.
 */
final class GuestPlatform implements Platform {
    private final Vcpu v;
    /** The guest's own pointer to its shared area, as it registered it in the EN MSR. */
    private final ApfArea area;

    GuestPlatform(Vcpu v) {
        this.v = v;
        this.area = v.host.area();
    }

    /** A resident frame, or an EPT violation that the host half decides (reference §2.0). */
    @Override
    public boolean access(int gfn) {
        if (v.frames.access(gfn)) {
            return true;
        }
        hostFault(gfn);
        return false;
    }

    /** An EPT violation on a non-resident frame: the host half decides (reference §2.0). */
    void hostFault(int gfn) {
        HostApf.Decision d = v.host.onNonResidentFault(gfn);
        if (d == HostApf.Decision.NOT_PRESENT_INJECTED) {
            // The EPT violation is a VM exit: the completion check runs before the entry that
            // delivers this #PF (§2.1). A halt or a stall runs it when it ends.
            v.exitPending = true;
        }
        v.event(switch (d) {
            case SYNCHRONOUS -> TraceEvent.HOST_SYNC_FAULT;
            case SYNTHETIC_HALT -> TraceEvent.HOST_SYNTHETIC_HALT;
            case NOT_PRESENT_INJECTED -> TraceEvent.HOST_ASYNC;
        }, gfn);
        if (d == HostApf.Decision.SYNCHRONOUS) {
            v.stall(gfn);
        }
    }

    @Override
    public boolean wrmsr(long msr, long value) {
        v.exitPending = true;
        return v.host.wrmsr(msr, value);
    }

    @Override
    public boolean cpuid(KvmFeature feature) {
        return v.host.cpuid(feature);
    }

    @Override
    public ApfArea area() {
        return area;
    }

    @Override
    public void hlt() {
        v.exitPending = true;
    }

    @Override
    public void pagingChanged(boolean on) {
        v.host.onPagingChanged(on);
        v.exitPending = true;
    }

    @Override
    public void remoteWake(int cpu, int task) {
        v.out.remoteWake(cpu, task);
    }
}
