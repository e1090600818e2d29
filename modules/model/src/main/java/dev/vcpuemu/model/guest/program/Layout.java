package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.settings.Settings;

import java.util.random.RandomGenerator;

/**
 * Where one vCPU's guest memory is (DESIGN §1.1). Its guest frames are, in order: a kernel stack
 * per task (the first one is the idle task's, which also holds the CPU's IST stacks), its kernel
 * pages, then each task's working set. User addresses of every task start at {@link #USER_BASE}.
 */
public final class Layout {
    /** Low 32 bits chosen so that a user address only equals a token after ~800k APFs on vCPU 0. */
    public static final long USER_BASE = 0x7fa5_c3d2_1000L;
    public static final long PAGE = 4096;

    private final Settings.Workload workload;
    private final int gfnBase;
    private final int stacks;
    private final int kernelPages;
    private final int workingSet;

    public Layout(int vcpu, Settings settings) {
        this.workload = settings.workload();
        this.stacks = settings.guest().tasksPerVcpu() + 1;
        this.kernelPages = settings.guest().kernelPages();
        this.workingSet = workload.workingSetPages();
        this.gfnBase = vcpu * framesPerVcpu(settings);
    }

    /** Guest frames owned by each vCPU: its kernel stacks, its kernel pages, then each task's working set. */
    public static int framesPerVcpu(Settings s) {
        return s.guest().tasksPerVcpu() + 1 + s.guest().kernelPages() + s.guest().tasksPerVcpu() * s.workload().workingSetPages();
    }

    public int kernelPages() {
        return kernelPages;
    }

    public int workingSet() {
        return workingSet;
    }

    public long userAddress(int page) {
        return USER_BASE + page * PAGE;
    }

    public int userPage(long va) {
        return (int) ((va - USER_BASE) / PAGE);
    }

    /** Whether {@code va} is in a task's working set. */
    public boolean inWorkingSet(long va) {
        return va >= USER_BASE && va < USER_BASE + workingSet * PAGE;
    }

    public int userGfn(int task, long va) {
        return gfnBase + stacks + kernelPages + task * workingSet + userPage(va);
    }

    public int kernelGfn(int page) {
        return gfnBase + stacks + page;
    }

    /** The frame of task {@code task}'s kernel stack; -1, the idle task, whose frame also holds the IST stacks. */
    public int stackGfn(int task) {
        return gfnBase + task + 1;
    }

    /** A page of the working set, by the workload's access pattern. */
    public int pickUserPage(RandomGenerator rng) {
        if (workload.pattern() == Settings.AccessPattern.HOT_COLD) {
            int hot = Math.max(1, (int) (workingSet * workload.hotFraction()));
            if (rng.nextDouble() < workload.hotProbability() || hot >= workingSet) {
                return rng.nextInt(hot);
            }
            return hot + rng.nextInt(workingSet - hot);
        }
        return rng.nextInt(workingSet);
    }
}
