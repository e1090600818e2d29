package dev.vcpuemu.model.guest.program;

/**
 * GENUINE_FAULT: {@code do_page_fault}. A user address in the task's working set is mapped
 * (with IRQs re-enabled if they were on), unless page faults are disabled (inside an NMI),
 * where the exception fixup makes the access fail. The kernel buffer of an instrumented entry
 * is a vmalloc fault (its page-table entry synced, IF left alone). Any other address: SIGSEGV
 * for user mode, the fixup for a user copy, otherwise an oops.
 */
public final class GenuineFault extends Frame {
    public static final int DISPATCH = 0;
    public static final int MM_WORK = 1;
    public static final int MAP = 2;
    public static final int RETURN = 3;

    private final long address;
    private boolean vmalloc;
    private int workLeft;

    private GenuineFault(long address) {
        super(Routine.GENUINE_FAULT);
        this.address = address;
    }

    /** Calls {@code do_page_fault} for {@code address} from the #PF handler {@code trap}. */
    public static void call(Kernel k, long address, Frame trap) {
        GenuineFault g = new GenuineFault(address);
        g.inherit(trap);
        k.push(g);
    }

    @Override
    public void step(Kernel k) {
        switch (pc) {
            case DISPATCH -> {
                boolean inWorkingSet = !k.idleTask() && k.layout().inWorkingSet(address);
                boolean uaccess = interrupted != null && interrupted.userAccessWithFixup();
                if (address == ApfHandler.TRACE_BUFFER) {
                    vmalloc = true;
                    workLeft = k.settings().guest().mmFaultOps();
                    pc = MM_WORK;
                } else if (inWorkingSet && k.nmi().nesting() == 0) {
                    if (savedIf) {
                        k.cpu().interruptFlag(true);
                    }
                    workLeft = k.settings().guest().mmFaultOps();
                    pc = MM_WORK;
                } else if (savedCpl == 3) {
                    k.killCurrentTask(address);
                } else if (uaccess) {
                    interrupted.fixedUp = true;
                    k.pop();
                } else {
                    k.panic("BUG: unable to handle page fault for address: 0x" + Long.toHexString(address));
                }
            }
            case MM_WORK -> {
                if (--workLeft <= 0) {
                    pc = MAP;
                }
            }
            case MAP -> {
                if (!vmalloc) {
                    k.pageTables().map(k.layout().userPage(address));
                }
                pc = RETURN;
            }
            default -> {
                if (!vmalloc) {
                    k.cpu().interruptFlag(false);
                }
                k.pop();
            }
        }
    }
}
