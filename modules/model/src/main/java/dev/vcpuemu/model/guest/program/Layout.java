package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.settings.Settings;

import java.util.random.RandomGenerator;

/**
 * Where one vCPU's guest memory is (DESIGN §1.1): its guest frames are its kernel pages, then
 * each task's working set; user addresses of every task start at {@link #USER_BASE}.
 */
public final class Layout {
    /** Low 32 bits chosen so that a user address only equals a token after ~800k APFs on vCPU 0. */
    public static final long USER_BASE = 0x7fa5_c3d2_1000L;
    public static final long PAGE = 4096;

    private final Settings.Workload workload;
    private final int gfnBase;
    private final int kernelPages;
    private final int workingSet;

    public Layout(int vcpu, Settings settings) {
        this.workload = settings.workload();
        this.kernelPages = settings.guest().kernelPages();
        this.workingSet = workload.workingSetPages();
        this.gfnBase = vcpu * framesPerVcpu(settings);
    }

    /** Guest frames owned by each vCPU: its kernel pages, then each task's working set. */
    public static int framesPerVcpu(Settings s) {
        return s.guest().kernelPages() + s.guest().tasksPerVcpu() * s.workload().workingSetPages();
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
        return gfnBase + kernelPages + task * workingSet + userPage(va);
    }

    public int kernelGfn(int page) {
        return gfnBase + page;
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
