package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.Apf;

/**
 * VE: the #VE design's handler (reference §3, the plan of the 2020 series): the CPU stored the
 * reason and token in the information area of the nesting level the exception was delivered
 * at; the handler reads and clears its own level's area. A nested event uses the next level's
 * area, and genuine #PFs never touch it: there is nothing shared to steal.
 */
public final class VirtualizationException extends Frame {
    public static final int READ_AREA = 0;
    public static final int CHECK = 1;
    public static final int WAIT = 2;
    public static final int IRET = 3;

    private int reason;
    private int token;

    public VirtualizationException() {
        super(Routine.VE);
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case READ_AREA -> {
                if (!ran(code(k).pfEntry())) {
                    return;
                }
                long info = k.cpu().takeVeInfo(k.trapDepth());
                reason = (int) (info >>> 32);
                token = (int) (info & 0xFFFFFFFFL);
                pc = CHECK;
            }
            case CHECK -> pc = reason == Apf.REASON_PAGE_NOT_PRESENT && asyncNotPresentAllowed(k) ? WAIT : IRET;
            case WAIT -> {
                if (ran(code(k).pfAsyncPath())) {
                    pc = IRET;
                    AsyncPfWait.call(k, token, true, false, this);
                }
            }
            default -> k.iret();
        }
    }
}
