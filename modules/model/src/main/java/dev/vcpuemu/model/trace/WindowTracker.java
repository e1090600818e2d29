package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.guest.program.Routine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
    private int task = -1;
    private long apfWordOpen = -1;
    private long apfWordToken;
    private int apfWordTask;
    private int nmiReopenedTask;
    private int nmiDepth;
    private long nmiReopened = -1;
    // Tokens delivered whose task has not enqueued yet: at most a few at a time.
    private final Map<Long, long[]> awaitingEnqueue = new HashMap<>();

    private final int limit;

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
            case DELIVER_ASYNC_PAGE_FAULT -> {
                apfWordOpen = at;
                apfWordToken = arg & 0xFFFFFFFFL;
                apfWordTask = task;
                awaitingEnqueue.put(arg & 0xFFFFFFFFL, new long[] {at, task});
            }
            case READ_CLEAR_APF_WORD -> {
                if (apfWordOpen >= 0) {
                    add(new Window(ProtocolWindow.APF_WORD_UNREAD, guest, vcpu, apfWordOpen, at, apfWordToken,
                            apfWordTask));
                    apfWordOpen = -1;
                }
            }
            case WAIT_SLEEP, WAIT_HALT, WAIT_FOUND_DUMMY -> {
                long[] open = awaitingEnqueue.remove(arg & 0xFFFFFFFFL);
                if (open != null) {
                    add(new Window(ProtocolWindow.WAKE_BEFORE_WAIT, guest, vcpu, open[0], at, arg & 0xFFFFFFFFL,
                            (int) open[1]));
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
