package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.memory.GuestPageTables;

import java.util.ArrayDeque;

/** A guest task pinned to one vCPU: its kernel stack of frames, page tables and sleep state. */
final class Task {
    enum State { RUNNABLE, SLEEPING }

    final int index;
    final boolean idle;
    final ArrayDeque<Frame> stack = new ArrayDeque<>();
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
        return stack.peek();
    }
}
