package dev.vcpuemu.model.guest.program;

/**
 * USER: a task's user-mode loop: pick a page of its working set (or enter a system call),
 * access it, compute. A faulting access stays at {@link #ACCESS} and runs again after IRET.
 */
public class UserLoop extends Frame {
    public static final int PICK = 0;
    public static final int ACCESS = 1;
    public static final int COMPUTE = 2;

    private long address;
    private int computeLeft;

    public UserLoop() {
        super(Routine.USER);
    }

    UserLoop(Routine routine) {
        super(routine);
    }

    @Override
    public void step(Kernel k) {
        var w = k.settings().workload();
        switch (pc) {
            case PICK -> {
                if (enterSystemCall(k, k.rng().nextDouble() < w.syscallProbability())) {
                    return;
                }
                address = k.layout().userAddress(k.layout().pickUserPage(k.rng()));
                computeLeft = w.computeOps();
                pc = ACCESS;
            }
            case ACCESS -> {
                if (access(k, address, k.layout().userGfn(k.task(), address), throughGuestPageTables())) {
                    pc = computeLeft > 0 ? COMPUTE : PICK;
                }
            }
            default -> {
                if (--computeLeft <= 0) {
                    pc = PICK;
                }
            }
        }
    }

    /** A system call was drawn ({@code syscall}): enter it and return true, or go on to an access. */
    boolean enterSystemCall(Kernel k, boolean syscall) {
        if (!syscall) {
            return false;
        }
        k.push(Syscall.drawn(k));
        return true;
    }

    /** User accesses go through the task's guest page tables (a genuine #PF if not present). */
    boolean throughGuestPageTables() {
        return true;
    }
}
