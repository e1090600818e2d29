package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * L1_PF_EXIT: KVM as L1 after a #PF VM exit that L0 made for an async #PF in L2 (reference
 * §2.4 steps 4–6; {@code kvm_handle_page_fault}). With IRQs still off from the exit, and after
 * instrumented code (hazard xiv, the window before {@link #IRQ_ON}), it reads and clears its
 * own APF word into {@code host_apf_flags}; it re-enables IRQs, so a page-ready interrupt may
 * arrive before the wait and leave a dummy (the path Sean's 2022 analysis keeps reachable,
 * step 6); then with IRQs off it waits on the token from the exit qualification (reason 1), so
 * this vCPU thread sleeps while L1 runs others, or, for a guest that takes page-ready over #PF,
 * wakes it (reason 2). Any other value is the MMU's business (0) or a WARN. IRQs on, and the
 * VM entry retries L2's access.
 */
public final class L1PageFaultExit extends ApfHandler {
    public static final int READ_FLAGS = 0;
    public static final int IRQ_ON = 1;
    public static final int DISPATCH = 2;
    public static final int HANDLE = 3;
    public static final int WAIT = 4;
    public static final int WAKE = 5;
    public static final int IRQ_ON_AGAIN = 6;
    public static final int VM_ENTRY = 7;

    /**
     * KVM-as-L1's code between {@code local_irq_enable()} after a VM exit and
     * {@code kvm_handle_page_fault} (the exit-reason dispatch): micro-ops with IRQs on (§2.4 step 6).
     */
    static final int DISPATCH_OPS = 16;

    private int dispatchLeft;

    /** @param exitQualification the token (§2.4 step 3) */
    public L1PageFaultExit(long exitQualification) {
        super(Routine.L1_PF_EXIT);
        this.address = exitQualification;
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case READ_FLAGS -> {
                if (readWordAfterInstrumentation(k, 1)) {
                    pc = IRQ_ON;
                }
            }
            case IRQ_ON -> {
                k.cpu().sti();
                dispatchLeft = DISPATCH_OPS;
                pc = DISPATCH;
            }
            case DISPATCH -> {
                if (--dispatchLeft <= 0) {
                    pc = HANDLE;
                }
            }
            case HANDLE -> {
                boolean wake = word == Apf.REASON_PAGE_READY && k.era().pageReadyAsPageFault();
                if (word == Apf.REASON_PAGE_NOT_PRESENT || wake) {
                    k.cpu().interruptFlag(false);
                    pc = wake ? WAKE : WAIT;
                } else {
                    pc = VM_ENTRY;
                }
            }
            case WAIT -> {
                pc = IRQ_ON_AGAIN;
                AsyncPfWait.call(k, (int) address, k.era().waitSchedules(), false, this);
            }
            case WAKE -> {
                pc = IRQ_ON_AGAIN;
                AsyncPfWake.call(k, (int) address);
            }
            case IRQ_ON_AGAIN -> {
                k.cpu().sti();
                pc = VM_ENTRY;
            }
            default -> {
                Frame exit = k.pop();
                k.cpu().interruptFlag(exit.savedIf);
                k.rec().event(TraceEvent.VM_ENTRY_TO_L2, 0);
            }
        }
    }
}
