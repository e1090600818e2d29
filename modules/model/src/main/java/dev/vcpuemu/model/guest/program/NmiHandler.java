package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.LatencyKind;

/**
 * NMI: {@code exc_nmi} with {@code nmi_state} (reference §1.7, §4(vii)): a second NMI while one
 * runs (possible after an IRET inside the handler) is latched and makes the first one run
 * again. The handler saves CR2 and restores it at exit if it changed; perf may read user
 * memory with page faults disabled, which can take a genuine guest #PF ({@link #USER_READ}).
 */
public final class NmiHandler extends Frame {
    public static final int ENTRY = 0;
    public static final int PERF = 1;
    public static final int USER_READ = 2;
    public static final int EXIT = 3;
    public static final int IRET = 4;

    private long address;
    private boolean addressChosen;

    public NmiHandler() {
        super(Routine.NMI);
    }

    @Override
    public void step(Kernel k) {
        NmiState nmi = k.nmi();
        switch (pc) {
            case ENTRY -> {
                if (!ran(code(k).nmiEntry())) {
                    return;
                }
                nmi.nesting++;
                if (nmi.state != NmiState.NOT_RUNNING) {
                    k.rec().finding(FindingKind.NESTED_NMI, "NMI delivered while the NMI handler still ran: an IRET"
                            + " inside it re-opened NMIs (§4(vii)); latched, the handler runs once more");
                    nmi.state = NmiState.LATCHED;
                    pc = IRET;
                } else {
                    nmi.state = NmiState.EXECUTING;
                    nmi.savedCr2 = k.cpu().cr2();
                    nmi.since = k.now();
                    pc = PERF;
                }
            }
            case PERF -> {
                if (ran(code(k).nmiSample())) {
                    pc = !k.idleTask() && k.rng().nextDouble() < nmi.userReadProbability ? USER_READ : EXIT;
                }
            }
            case USER_READ -> {
                if (!addressChosen) {
                    if (!ran(code(k).nmiCallchain())) {
                        return;
                    }
                    addressChosen = true;
                    address = k.layout().userAddress(k.rng().nextInt(k.layout().workingSet()));
                }
                if (access(k, address, k.layout().userGfn(k.task(), address), true)) {
                    addressChosen = false;
                    pc = EXIT;
                }
            }
            case EXIT -> {
                if (!ran(code(k).nmiExit())) {
                    return;
                }
                if (k.cpu().cr2() != nmi.savedCr2) {
                    k.cpu().cr2(nmi.savedCr2);
                }
                if (nmi.state == NmiState.LATCHED) {
                    nmi.state = NmiState.EXECUTING;
                    pc = PERF;
                } else {
                    nmi.state = NmiState.NOT_RUNNING;
                    k.latencies().record(LatencyKind.NMI_HANDLER, k.now() - nmi.since);
                    pc = IRET;
                }
            }
            default -> {
                nmi.nesting--;
                k.iret();
            }
        }
    }

    /** {@code copy_from_user_nmi}: a genuine #PF on the perf read is fixed up, the read fails. */
    @Override
    protected boolean userAccessWithFixup() {
        return true;
    }
}
