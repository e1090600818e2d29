package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.Routine;

/**
 * PF_LEGACY_EARLY: the ≤5.2 (GL-a) path (reference §4(i) "Second window"): the entry code's
 * instrumentation runs first, the C handler reads the reason word, then {@code exception_enter}
 * (instrumented again) and only then {@code read_cr2()}. A #PF taken at the first point consumes
 * the reason word; one at the second overwrites CR2, so the task waits on the wrong token
 * (behaviour 21). Both windows are the steps before {@link #DISPATCH}.
 */
final class LegacyEarlyPageFault extends ReasonWordPageFault {
    static final int READ_REASON = 0;
    static final int READ_CR2 = 1;
    static final int DISPATCH = 2;
    static final int IRET = 3;

    LegacyEarlyPageFault() {
        super(Routine.PF_LEGACY_EARLY);
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case READ_REASON -> {
                if (ran(code(k).pfEntry()) && readWordAfterInstrumentation(k, 1)) {
                    pc = READ_CR2;
                }
            }
            case READ_CR2 -> {
                if (ran(code(k).pfBetweenReads()) && !entryFaults(k, 2)) {
                    address = k.cpu().cr2();
                    k.truth().cr2Read(delivery, word, address);
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
