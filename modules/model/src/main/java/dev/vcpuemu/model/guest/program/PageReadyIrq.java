package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * PAGE_READY_IRQ: {@code sysvec_kvm_asyncpf_interrupt} on vector 0xF3 (reference §2.2): EOI;
 * {@code t = token}; {@code wake(t)}; {@code token := 0}; WRMSR ACK. The slot is cleared before
 * the ACK; with {@code guest.bugs.ack-before-clear} the other way round (§4(iv) corner).
 */
public final class PageReadyIrq extends InterruptHandler {
    public static final int ENTER = 0;
    public static final int READ_TOKEN = 1;
    public static final int WAKE = 2;
    public static final int CLEAR = 3;
    public static final int ACK = 4;
    public static final int CLEAR_AFTER_ACK = 5;
    public static final int EXIT = 6;

    private int token;

    public PageReadyIrq() {
        super(Routine.PAGE_READY_IRQ);
    }

    @Override
    public void step(Kernel k) {
        var area = k.platform().area();
        switch (pc) {
            case ENTER -> {
                if (!ran(code(k).pageReadyEntry())) {
                    return;
                }
                k.irqNesting(+1);
                pc = k.apfEnabled() ? READ_TOKEN : ACK;
                if (!k.apfEnabled() && area.token() != 0) {
                    k.truth().pageReadyConsumed(area.token(),
                            "the page-ready interrupt handler, which ignored it as the guest had disabled APF (§4(v))");
                }
            }
            case READ_TOKEN -> {
                token = area.token();
                k.rec().event(TraceEvent.READ_TOKEN_SLOT, token & 0xFFFFFFFFL);
                pc = WAKE;
            }
            case WAKE -> {
                pc = CLEAR;
                AsyncPfWake.call(k, token);
            }
            case CLEAR -> {
                if (k.settings().guest().bugs().ackBeforeClear()) {
                    if (wrmsr(k, Msr.ASYNC_PF_ACK, 1)) {
                        pc = CLEAR_AFTER_ACK;
                    }
                } else {
                    area.clearToken();
                    pc = ACK;
                }
            }
            case ACK -> {
                if (!k.apfEnabled() || wrmsr(k, Msr.ASYNC_PF_ACK, 1)) {
                    pc = EXIT;
                }
            }
            case CLEAR_AFTER_ACK -> {
                area.clearToken();
                pc = EXIT;
            }
            default -> irqExit(k);
        }
    }
}
