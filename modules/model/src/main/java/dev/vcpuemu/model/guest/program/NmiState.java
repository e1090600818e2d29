package dev.vcpuemu.model.guest.program;

/**
 * Linux's per-CPU NMI bookkeeping ({@code nmi_state}, {@code nmi_cr2}, reference §1.7,
 * §4(vii)): a second NMI while one runs (possible after an IRET inside the handler) is latched
 * and makes the first one run again; CR2 is saved on entry and restored on exit.
 */
public final class NmiState {
    static final int NOT_RUNNING = 0;
    static final int EXECUTING = 1;
    static final int LATCHED = 2;

    int state = NOT_RUNNING;
    long savedCr2;
    long since;
    int nesting;
    /** Taken at delivery: a latched NMI must not change what the running handler does. */
    double userReadProbability;

    /** NMI handlers on the stack ({@code in_nmi()}). */
    public int nesting() {
        return nesting;
    }

    /** The CPU delivered an NMI whose handler would read user memory with this probability. */
    public void delivered(double userReadProbability) {
        this.userReadProbability = userReadProbability;
    }
}
