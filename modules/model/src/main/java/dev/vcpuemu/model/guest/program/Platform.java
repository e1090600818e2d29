package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.ApfArea;
import dev.vcpuemu.model.abi.KvmFeature;

/**
 * The machine under the guest kernel, besides its CPU's registers: the host's memory (EPT),
 * the paravirtual interface (MSRs, CPUID, the shared area) and the other vCPUs. Every call
 * that KVM intercepts is a VM exit, after which the host runs its completion check.
 */
public interface Platform {
    /**
     * A guest-physical access: true if the frame is resident; else the access exits to the host,
     * which decides by reference §2.0 (and the micro-op does not retire).
     */
    boolean access(int gfn);

    /** WRMSR to a paravirtual MSR (a VM exit); false if the host refused it (the guest gets #GP). */
    boolean wrmsr(long msr, long value);

    boolean cpuid(KvmFeature feature);

    /** This vCPU's {@code kvm_vcpu_pv_apf_data}, shared with the host. */
    ApfArea area();

    /** HLT (a VM exit: the vCPU blocks on the host until something is deliverable). */
    void hlt();

    /** CR0.PG changed: SMM entry clears it, RSM sets it (a VM exit). */
    void pagingChanged(boolean on);

    /** A reschedule IPI to another vCPU for one of its tasks (-1: a halted waiter). */
    void remoteWake(int cpu, int task);
}
