package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.cpu.Vector;

/**
 * BOOT: the guest's APF enable at CPU bring-up ({@code kvm_guest_cpu_init}, reference §2.1
 * and §2.2 "Guest enable"): the era's CPUID checks, {@code MSR_KVM_ASYNC_PF_INT} first where
 * page-ready is an interrupt, then {@code MSR_KVM_ASYNC_PF_EN}, then the guest's own flag. Run
 * again from the idle task to re-enable after a disable.
 */
public final class Boot extends Frame {
    public static final int CPUID = 0;
    public static final int ENABLE = 1;
    public static final int MARK_ENABLED = 2;
    public static final int RETURN = 3;

    public Boot() {
        super(Routine.BOOT);
    }

    @Override
    public void step(Kernel k) {
        var g = k.settings().guest();
        ApfEra era = k.era();
        switch (pc) {
            case CPUID -> {
                if (!(g.asyncPf() && era.enables(k.platform()))) {
                    pc = RETURN;
                } else if (era.pageReadyAsPageFault() || wrmsr(k, Msr.ASYNC_PF_INT, Vector.ASYNC_PF)) {
                    pc = ENABLE;
                }
            }
            case ENABLE -> {
                long en = Msr.EN_ENABLED | era.enableBits(g.preempt());
                if (g.nested().deliveryAsPfVmexit() && k.platform().cpuid(KvmFeature.ASYNC_PF_VMEXIT) && era.deliversToL1()) {
                    en |= Msr.EN_DELIVERY_AS_PF_VMEXIT;
                }
                if (wrmsr(k, Msr.ASYNC_PF_EN, en)) {
                    pc = MARK_ENABLED;
                }
            }
            case MARK_ENABLED -> {
                k.apfEnabled(true);
                pc = RETURN;
            }
            default -> k.pop();
        }
    }
}
