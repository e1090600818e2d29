package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.guest.program.AsyncPfWait;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.GenuineFault;
import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.Routine;

/**
 * PF_ERROR_CODE: the error-code design's #PF handler (reference §3, Sean's May 2020
 * suggestion): CR2 captured first, then the error code, which the CPU pushed on this
 * delivery's own exception frame, tells an async not-present from a genuine fault. Nothing is
 * shared, so a nested fault cannot take it: there is no window. The IF=0 and kernel-mode rules
 * of 5.9 stay. The #VE design takes its genuine faults here too.
 */
final class ErrorCodePageFault extends Frame {
    static final int READ_CR2 = 0;
    static final int CHECK = 1;
    static final int WAIT = 2;
    static final int IRET = 3;

    private long address;

    ErrorCodePageFault() {
        super(Routine.PF_ERROR_CODE);
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case READ_CR2 -> {
                if (ran(code(k).pfEntry())) {
                    address = k.cpu().cr2();
                    pc = CHECK;
                }
            }
            case CHECK -> {
                if (errorCode != Apf.ERROR_CODE_ASYNC_NOT_PRESENT) {
                    pc = IRET;
                    GenuineFault.call(k, address, this);
                } else {
                    pc = asyncNotPresentAllowed(k) ? WAIT : IRET;
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
