package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.memory.GuestPageTables;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;

/** A guest task pinned to one vCPU: its kernel stack of frames, page tables and sleep state. */
final class Task {
    enum State { RUNNABLE, SLEEPING }

    final int index;
    final boolean idle;
    /** The kernel stack, top first; changed only through {@link #push}, {@link #pop} and {@link #clear}. */
    private final ArrayDeque<Frame> stack = new ArrayDeque<>();
    /** The top of {@link #stack}, kept beside it: the run loop reads it at every micro-op. */
    private Frame top;
    GuestPageTables pageTables;
    State state = State.RUNNABLE;
    boolean onRunQueue;
    boolean savedIf;
    int preemptCount;
    long sliceStart;
    long sleepSince;
    int sleepToken;
    boolean hungReported;

    Task(int index, boolean idle) {
        this.index = index;
        this.idle = idle;
    }

    Frame top() {
        return top;
    }

    /** The kernel stack's frames, top first, read-only: nothing may change it behind {@link #top}'s back. */
    Collection<Frame> frames() {
        return Collections.unmodifiableCollection(stack);
    }

    void push(Frame f) {
        stack.push(f);
        top = f;
    }

    Frame pop() {
        Frame f = stack.pop();
        top = stack.peek();
        return f;
    }

    void clear() {
        stack.clear();
        top = null;
    }
}
