package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.guest.program.ApfHandler;
import dev.vcpuemu.model.guest.program.AsyncPfWait;
import dev.vcpuemu.model.guest.program.AsyncPfWake;
import dev.vcpuemu.model.guest.program.GenuineFault;
import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.Panics;
import dev.vcpuemu.model.guest.program.Routine;

/**
 * PF_INTERRUPT: the 5.8 and later {@code exc_page_fault} (reference §2.2 "Guest #PF"): CR2
 * first, then {@code kvm_read_and_reset_apf_flags}; a non-zero value with IF=0 in the
 * interrupted context or in kernel mode panics, else the task waits in
 * {@code kvm_async_pf_task_wait_schedule}. The entry is noinstr, so the window of hazard (i)
 * is exactly {@link #READ_CR2}: an NMI there whose handler faults makes that nested handler
 * read the flags, see IF=0 and panic. The 5.8 guest still takes page-ready as a #PF with
 * reason 2 ({@code pageReadyWakes}).
 */
final class FlagsPageFault extends ApfHandler {
    static final int READ_CR2 = 0;
    static final int READ_FLAGS = 1;
    static final int DISPATCH = 2;
    static final int WAIT = 3;
    static final int IRET = 4;

    private final boolean pageReadyWakes;

    FlagsPageFault(boolean pageReadyWakes) {
        super(Routine.PF_INTERRUPT);
        this.pageReadyWakes = pageReadyWakes;
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case READ_CR2 -> {
                if (ran(code(k).pfEntry())) {
                    address = k.cpu().cr2();
                    pc = READ_FLAGS;
                }
            }
            case READ_FLAGS -> {
                if (ran(code(k).pfBetweenReads())) {
                    word = readAndClearWord(k);
                    pc = DISPATCH;
                }
            }
            case DISPATCH -> {
                if (word == 0) {
                    pc = IRET;
                    GenuineFault.call(k, address, this);
                } else if (!savedIf) {
                    k.panic(Panics.IF_OFF);
                } else if ((word & Apf.REASON_PAGE_NOT_PRESENT) == 0) {
                    pc = IRET;
                    if (word == Apf.REASON_PAGE_READY && pageReadyWakes) {
                        AsyncPfWake.call(k, (int) address);
                    }
                } else if (savedCpl != 3) {
                    k.panic(Panics.KERNEL_MODE);
                } else {
                    pc = WAIT;
                }
            }
            case WAIT -> {
                if (ran(code(k).pfAsyncPath())) {
                    pc = IRET;
                    AsyncPfWait.call(k, (int) address, true, false, this);
                }
            }
            default -> k.iret();
        }
    }
}
