package dev.vcpuemu.model.guest.program;

/**
 * SYSCALL: kernel work on behalf of a task: a few accesses in a preemptible section (user
 * copies, which a fault's fixup may fail), with preemption disabled, or with IRQs disabled
 * (kernel pages). The latter two are where an async not-present at CPL 0 is a hazard (§4(vi)).
 */
public final class Syscall extends Frame {
    public static final int ENTER = 0;
    public static final int DISABLE = 1;
    public static final int ACCESS = 2;
    public static final int ENABLE = 3;
    public static final int RETURN = 4;

    /** What the accesses run under. */
    public enum Section { PREEMPTIBLE, PREEMPT_OFF, IRQ_OFF }

    private final Section section;
    private int accessesLeft;
    private long address;
    private boolean addressChosen;

    Syscall(Section section, int accesses) {
        super(Routine.SYSCALL);
        this.section = section;
        this.accessesLeft = accesses;
    }

    /** A system call of the workload's mix (workload.irq-off-fraction, preempt-off-fraction). */
    static Syscall drawn(Kernel k) {
        var w = k.settings().workload();
        double r = k.rng().nextDouble();
        Section s = r < w.irqOffFraction() ? Section.IRQ_OFF
                : r < w.irqOffFraction() + w.preemptOffFraction() ? Section.PREEMPT_OFF : Section.PREEMPTIBLE;
        return new Syscall(s, w.syscallAccesses());
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case ENTER -> pc = section == Section.PREEMPTIBLE ? ACCESS : DISABLE;
            case DISABLE -> {
                if (section == Section.IRQ_OFF) {
                    k.cpu().interruptFlag(false);
                } else {
                    k.preemptCount(+1);
                }
                pc = ACCESS;
            }
            case ACCESS -> {
                boolean userPage = section == Section.PREEMPTIBLE;
                if (!addressChosen) {
                    addressChosen = true;
                    address = userPage ? k.layout().userAddress(k.layout().pickUserPage(k.rng()))
                            : k.rng().nextInt(k.layout().kernelPages());
                }
                int gfn = userPage ? k.layout().userGfn(k.task(), address) : k.layout().kernelGfn((int) address);
                if (access(k, address, gfn, userPage)) {
                    addressChosen = false;
                    if (--accessesLeft <= 0) {
                        pc = ENABLE;
                    }
                }
            }
            case ENABLE -> {
                if (section == Section.IRQ_OFF) {
                    k.cpu().sti();
                } else if (section == Section.PREEMPT_OFF) {
                    k.preemptCount(-1);
                }
                pc = RETURN;
            }
            default -> k.pop();
        }
    }

    /** A preemptible system call's accesses are user copies: a genuine #PF there is fixed up. */
    @Override
    protected boolean userAccessWithFixup() {
        return section == Section.PREEMPTIBLE;
    }
}
