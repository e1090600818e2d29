package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.Routine;

/**
 * PF_LEGACY: the 5.3–5.7 {@code async_page_fault} path (reference §2.1 "Guest #PF handler",
 * GL-b): CR2 captured in the entry code, then, after the instrumented entry work, the reason
 * word read and cleared, then dispatch. The window of hazard (i) is {@link #READ_CR2} and
 * {@link #READ_REASON}: an NMI there whose handler faults consumes this handler's reason.
 */
final class LegacyPageFault extends ReasonWordPageFault {
    static final int READ_CR2 = 0;
    static final int READ_REASON = 1;
    static final int DISPATCH = 2;
    static final int IRET = 3;

    LegacyPageFault() {
        super(Routine.PF_LEGACY);
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case READ_CR2 -> {
                if (ran(code(k).pfEntry())) {
                    address = k.cpu().cr2();
                    pc = READ_REASON;
                }
            }
            case READ_REASON -> {
                if (ran(code(k).pfBetweenReads()) && readWordAfterInstrumentation(k, 1)) {
                    pc = DISPATCH;
                }
            }
            case DISPATCH -> {
                if (ran(code(k).pfAsyncPath())) {
                    pc = IRET;
                    dispatch(k);
                }
            }
            default -> k.iret();
        }
    }
}
