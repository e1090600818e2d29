package dev.vcpuemu.model.guest;

/**
 * {@code struct kvm_task_sleep_node} (reference §1.7): a sleeping task's entry in the global
 * sleeper table, or a dummy left by a wake that came before its wait. {@code hashed} is read
 * by the waiter without the bucket lock ({@code hlist_unhashed}), hence volatile.
 */
public final class SleeperNode {
    public final int token;
    public final int cpu;
    /** Index of the waiting task on {@link #cpu}; -1 for the idle task and for dummies. */
    public final int task;
    public final boolean halted;
    private final boolean dummy;
    public final long createdAtNanos;
    private volatile boolean hashed = true;

    private SleeperNode(int token, int cpu, int task, boolean halted, boolean dummy, long createdAtNanos) {
        this.token = token;
        this.cpu = cpu;
        this.task = task;
        this.halted = halted;
        this.dummy = dummy;
        this.createdAtNanos = createdAtNanos;
    }

    /** A waiter's node; it lives as long as the wait (on the task's stack in Linux). */
    public static SleeperNode waiter(int token, int cpu, int task, boolean halted, long atNanos) {
        return new SleeperNode(token, cpu, task, halted, false, atNanos);
    }

    /** A dummy left by a wake that found no waiter ({@code GFP_ATOMIC} in Linux). */
    public static SleeperNode dummy(int token, int cpu, long atNanos) {
        return new SleeperNode(token, cpu, -1, false, true, atNanos);
    }

    public boolean isDummy() {
        return dummy;
    }

    public boolean hashed() {
        return hashed;
    }

    void unhash() {
        hashed = false;
    }
}
