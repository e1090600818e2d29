package dev.vcpuemu.model.trace;

/**
 * The protocol's race windows, named by the vCPU events that open and close them (reference §4).
 * An input landing inside one is what the hazards need; the deterministic engine's
 * {@code windows} strategy aims NMIs and completions at their boundaries ({@link WindowTracker}
 * finds them in a run's events).
 */
public enum ProtocolWindow {
    /**
     * §4(i): from the delivery of a host-injected #PF to the handler's read of the reason or
     * flags word ({@link TraceEvent#DELIVER_ASYNC_PAGE_FAULT} to
     * {@link TraceEvent#READ_CLEAR_APF_WORD}). An NMI here whose handler takes a genuine #PF
     * lets that #PF consume the word. Eras without the word never close it, so never report it.
     */
    APF_WORD_UNREAD(Aim.NMI),
    /**
     * §4(vii): from the IRET of an exception or interrupt taken inside the NMI handler (NMI
     * blocking ends there) to the NMI handler's own IRET. An NMI here nests.
     */
    NMI_REOPENED(Aim.NMI),
    /**
     * §4(iii): from the delivery of an async not-present #PF to its task's enqueue on the token
     * ({@link TraceEvent#WAIT_SLEEP}, {@link TraceEvent#WAIT_HALT} or
     * {@link TraceEvent#WAIT_FOUND_DUMMY}). A page-ready for that token completed here, and
     * delivered on another vCPU, is a wake before the wait.
     */
    WAKE_BEFORE_WAIT(Aim.COMPLETION);

    /** Which input is steered into the window: an NMI, or the completion of the window's own swap-in. */
    public enum Aim { NMI, COMPLETION }

    public final Aim aim;

    ProtocolWindow(Aim aim) {
        this.aim = aim;
    }
}
