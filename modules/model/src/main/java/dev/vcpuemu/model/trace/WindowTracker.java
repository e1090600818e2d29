package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.guest.program.Routine;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the {@link ProtocolWindow}s in one vCPU's events, told in the vCPU's order: an
 * {@link EventSink} for one vCPU. Each window that closed is kept with its open and close
 * times; a window still open when the run ends is not (its extent is unknown). It keeps the
 * first {@code limit} windows only: a long run has millions, and the earliest are what an aim
 * needs.
 */
public final class WindowTracker implements EventSink {
    /**
     * One window as it happened: open at {@code openNanos}, closed at {@code closeNanos}, opened
     * over task {@code task} (-1: the idle task, or before the first task switch).
     */
    public record Window(ProtocolWindow kind, int guest, int vcpu, long openNanos, long closeNanos, long token,
                         int task) {}

    private final int guest;
    private final int vcpu;
    private final List<Window> windows = new ArrayList<>();
    private final int limit;
    private int task = -1;
    private long apfWordOpen = -1;
    private long apfWordToken;
    private int apfWordTask;
    private int nmiReopenedTask;
    private int nmiDepth;
    private long nmiReopened = -1;
    // The not-present the host injected last, until its delivery (-1: none, or a page-ready since).
    private long injectedNotPresent = -1;
    // The delivered not-present whose task has not enqueued yet: one at a time, as an async #PF is
    // never taken inside another's handler before the enqueue (IF=0 until then, §4(iii)).
    private long enqueueOpen = -1;
    private long enqueueToken;
    private int enqueueTask;

    public WindowTracker(int guest, int vcpu) {
        this(guest, vcpu, Integer.MAX_VALUE);
    }

    public WindowTracker(int guest, int vcpu, int limit) {
        this.guest = guest;
        this.vcpu = vcpu;
        this.limit = limit;
    }

    private void add(Window w) {
        if (windows.size() < limit) {
            windows.add(w);
        }
    }

    @Override
    public void event(int v, long at, TraceEvent what, long arg) {
        switch (what) {
            case SWITCH_TO_TASK -> task = (int) arg;
            case HOST_INJECT_NOT_PRESENT -> injectedNotPresent = arg & 0xFFFFFFFFL;
            case HOST_INJECT_PAGE_READY -> injectedNotPresent = -1;
            case DELIVER_ASYNC_PAGE_FAULT -> {
                // Either kind of delivery opens the word's window (§4(i) and its page-ready variant);
                // only a not-present has a task that will enqueue on the token.
                apfWordOpen = at;
                apfWordToken = arg & 0xFFFFFFFFL;
                apfWordTask = task;
                if ((arg & 0xFFFFFFFFL) == injectedNotPresent) {
                    enqueueOpen = at;
                    enqueueToken = injectedNotPresent;
                    enqueueTask = task;
                }
                injectedNotPresent = -1;
            }
            case READ_CLEAR_APF_WORD -> {
                if (apfWordOpen >= 0) {
                    add(new Window(ProtocolWindow.APF_WORD_UNREAD, guest, vcpu, apfWordOpen, at, apfWordToken,
                            apfWordTask));
                    apfWordOpen = -1;
                }
            }
            case WAIT_SLEEP, WAIT_HALT, WAIT_FOUND_DUMMY -> {
                if (enqueueOpen >= 0 && (arg & 0xFFFFFFFFL) == enqueueToken) {
                    add(new Window(ProtocolWindow.WAKE_BEFORE_WAIT, guest, vcpu, enqueueOpen, at, enqueueToken,
                            enqueueTask));
                    enqueueOpen = -1;
                }
            }
            case DELIVER_NMI -> nmiDepth++;
            case IRET -> {
                if (arg == Routine.NMI.ordinal()) {
                    if (nmiReopened >= 0) {
                        add(new Window(ProtocolWindow.NMI_REOPENED, guest, vcpu, nmiReopened, at, 0,
                                nmiReopenedTask));
                    }
                    nmiReopened = -1;
                    nmiDepth = Math.max(0, nmiDepth - 1);
                } else if (nmiDepth > 0 && nmiReopened < 0) {
                    nmiReopened = at;
                    nmiReopenedTask = task;
                }
            }
            default -> {
            }
        }
    }

    /** The windows that closed so far, in the order they closed. */
    public List<Window> windows() {
        return List.copyOf(windows);
    }
}
