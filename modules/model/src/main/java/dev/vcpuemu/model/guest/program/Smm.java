package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.trace.TraceEvent;

/**
 * SMM: an SMI's handler (guest.smi, reference §4(v) 1). SMM entry clears CR0.PG, which the host
 * sees (before 2025 it flushed the APF queue); the handler touches one guest frame, which may
 * take a host fault while paging is off (from 2022 no not-present is injected then); RSM sets
 * CR0.PG again and restores the NMI blocking of before.
 */
public final class Smm extends Frame {
    public static final int ENTER = 0;
    public static final int ACCESS = 1;
    public static final int WORK = 2;
    public static final int RSM = 3;

    private boolean nmiBlockedBefore;
    private int workLeft;
    private long page;
    private boolean pageChosen;

    public Smm() {
        super(Routine.SMM);
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case ENTER -> {
                k.cpu().smm(true);
                nmiBlockedBefore = k.cpu().nmiBlocked();
                k.rec().event(TraceEvent.SMM_ENTRY, 0);
                k.platform().pagingChanged(false);
                workLeft = k.settings().guest().smi().handlerOps();
                pc = ACCESS;
            }
            case ACCESS -> {
                if (!pageChosen) {
                    pageChosen = true;
                    page = k.rng().nextInt(k.layout().kernelPages());
                }
                if (access(k, page, k.layout().kernelGfn((int) page), false)) {
                    pageChosen = false;
                    pc = WORK;
                }
            }
            case WORK -> {
                if (--workLeft <= 0) {
                    pc = RSM;
                }
            }
            default -> {
                k.cpu().smm(false);
                k.rec().event(TraceEvent.RSM, 0);
                k.platform().pagingChanged(true);
                boolean blocked = nmiBlockedBefore;
                k.iret();
                k.cpu().nmiBlocked(blocked);
            }
        }
    }
}
