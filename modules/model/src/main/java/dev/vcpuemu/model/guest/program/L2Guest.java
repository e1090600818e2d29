package dev.vcpuemu.model.guest.program;

/**
 * L2_GUEST: an L2 vCPU thread of a guest that is KVM itself (L1), in guest mode (reference
 * §2.4): L2 code runs the user loop over the VM's memory (the thread's working set). L2's
 * system calls stay inside L2 and only set its CPL, which the host's user-only rule reads; L1's
 * page tables for L2 (EPT) are taken as populated, so only the host can fault.
 */
public final class L2Guest extends UserLoop {
    /** L2's own CPL, as KVM (L0) reads it. */
    private int l2Cpl;

    public L2Guest() {
        super(Routine.L2_GUEST);
    }

    @Override
    boolean enterSystemCall(Kernel k, boolean syscall) {
        l2Cpl = syscall ? 0 : 3;
        return false;
    }

    @Override
    boolean throughGuestPageTables() {
        return false;
    }

    @Override
    public int cplSeenByHost() {
        return l2Cpl;
    }
}
