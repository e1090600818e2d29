package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.memory.GuestPageTables;

import java.util.ArrayDeque;

/** A guest task pinned to one vCPU: its kernel stack of frames, page tables and sleep state. */
final class Task {
    enum State { RUNNABLE, SLEEPING }

    final int index;
    final boolean idle;
    /** The kernel stack, top first; read it freely, change it only through {@link #push}, {@link #pop} and {@link #clear}. */
    final ArrayDeque<Frame> stack = new ArrayDeque<>();
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
