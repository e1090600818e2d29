package dev.vcpuemu.model.trace;

import dev.vcpuemu.model.guest.program.Routine;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The protocol windows as their opening and closing vCPU events define them (reference §4(i), (iii), (vii)). */
class WindowTrackerTest {
    private static final long TOKEN = 0x5000;

    @Test
    void anAsyncFaultOpensTheWordWindowAndTheEnqueueWindowOverItsTask() {
        WindowTracker t = new WindowTracker(0, 1);
        t.event(1, 10, TraceEvent.SWITCH_TO_TASK, 2);
        t.event(1, 95, TraceEvent.HOST_INJECT_NOT_PRESENT, TOKEN);
        t.event(1, 100, TraceEvent.DELIVER_ASYNC_PAGE_FAULT, TOKEN);
        t.event(1, 140, TraceEvent.READ_CLEAR_APF_WORD, 1);
        t.event(1, 300, TraceEvent.WAIT_SLEEP, TOKEN);
        assertEquals(List.of(
                new WindowTracker.Window(ProtocolWindow.APF_WORD_UNREAD, 0, 1, 100, 140, TOKEN, 2),
                new WindowTracker.Window(ProtocolWindow.WAKE_BEFORE_WAIT, 0, 1, 100, 300, TOKEN, 2)), t.windows());
    }

    @Test
    void aWaitForAnotherTokenDoesNotCloseTheEnqueueWindowAndAnUnreadWordNeverCloses() {
        WindowTracker t = new WindowTracker(0, 0);
        t.event(0, 95, TraceEvent.HOST_INJECT_NOT_PRESENT, TOKEN);
        t.event(0, 100, TraceEvent.DELIVER_ASYNC_PAGE_FAULT, TOKEN);
        t.event(0, 200, TraceEvent.WAIT_FOUND_DUMMY, TOKEN + 0x1000);
        // The error-code and #VE eras read no word: their windows stay open and are not reported.
        assertEquals(List.of(), t.windows());
        t.event(0, 250, TraceEvent.WAIT_HALT, TOKEN);
        assertEquals(List.of(new WindowTracker.Window(ProtocolWindow.WAKE_BEFORE_WAIT, 0, 0, 100, 250, TOKEN, -1)),
                t.windows());
    }

    @Test
    void aPageReadyDeliveryOpensOnlyTheWordWindowSoALaterWaitOnItsTokenClosesNothing() {
        WindowTracker t = new WindowTracker(0, 0);
        t.event(0, 95, TraceEvent.HOST_INJECT_PAGE_READY, TOKEN);
        t.event(0, 100, TraceEvent.DELIVER_ASYNC_PAGE_FAULT, TOKEN);
        t.event(0, 140, TraceEvent.READ_CLEAR_APF_WORD, 2);
        t.event(0, 900, TraceEvent.WAIT_SLEEP, TOKEN);
        assertEquals(List.of(new WindowTracker.Window(ProtocolWindow.APF_WORD_UNREAD, 0, 0, 100, 140, TOKEN, -1)),
                t.windows());
    }

    @Test
    void anIretInsideTheNmiHandlerReopensNmisUntilTheHandlersOwnIret() {
        WindowTracker t = new WindowTracker(0, 0);
        t.event(0, 10, TraceEvent.SWITCH_TO_TASK, 0);
        t.event(0, 100, TraceEvent.IRET, Routine.PF_LEGACY.ordinal());
        t.event(0, 200, TraceEvent.DELIVER_NMI, 2);
        t.event(0, 250, TraceEvent.DELIVER_PAGE_FAULT, 0x7000);
        t.event(0, 300, TraceEvent.IRET, Routine.PF_LEGACY.ordinal());
        t.event(0, 320, TraceEvent.IRET, Routine.TIMER_IRQ.ordinal());
        t.event(0, 900, TraceEvent.IRET, Routine.NMI.ordinal());
        t.event(0, 950, TraceEvent.IRET, Routine.PF_LEGACY.ordinal());
        // Opened by the first IRET inside the handler, closed by its own; IRETs outside open nothing.
        assertEquals(List.of(new WindowTracker.Window(ProtocolWindow.NMI_REOPENED, 0, 0, 300, 900, 0, 0)), t.windows());
    }

    @Test
    void itKeepsTheEarliestWindowsUpToItsLimit() {
        WindowTracker t = new WindowTracker(0, 0, 2);
        for (int i = 0; i < 5; i++) {
            t.event(0, 100L * i, TraceEvent.DELIVER_ASYNC_PAGE_FAULT, TOKEN + i);
            t.event(0, 100L * i + 40, TraceEvent.READ_CLEAR_APF_WORD, 1);
        }
        assertEquals(List.of(0L, 100L), t.windows().stream().map(WindowTracker.Window::openNanos).toList());
    }
}
