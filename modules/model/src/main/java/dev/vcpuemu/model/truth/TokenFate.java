package dev.vcpuemu.model.truth;

import java.util.Locale;

/**
 * What became of the token a task sleeps on: ground truth that the guest cannot see (DESIGN
 * §1.6), for the findings that say why a task never woke. A vCPU keeps one for each wait in
 * progress and a short ring of recent page-ready events, never a record per token issued, so
 * its memory stays bounded however long a run lasts.
 *
 * @param state where the token's page-ready is
 * @param atNanos when it got there (virtual time), -1 if not known
 * @param consumedBy for {@link State#DELIVERED}: who took the page-ready without waking the
 *                   sleeper, and when, if the model saw it; else null
 */
public record TokenFate(State state, long atNanos, String consumedBy) {

    public enum State {
        /** The host's work item is still at a paging worker. */
        AT_WORKER,
        /** The work completed; its page-ready waits on the host's done list. */
        QUEUED,
        /** The host sent the page-ready (reason word and #PF, or token slot and interrupt). */
        DELIVERED,
        /** The work completed but the host sent nothing: APF was disabled (§2.5). */
        SUPPRESSED,
        /** A guest disable of APF flushed it: no page-ready will ever come (§2.5, §4(v)). */
        FLUSHED,
        /** No not-present ever carried this value: the guest waits on something that is no token. */
        NEVER_ISSUED,
        /** Issued, but gone from the host and from the recent events: its page-ready came earlier. */
        GONE
    }

    public static TokenFate of(State state, long atNanos) {
        return new TokenFate(state, atNanos, null);
    }

    /** This fate with the page-ready taken by {@code who} at {@code nanos}. */
    TokenFate consumed(String who, long nanos) {
        return new TokenFate(State.DELIVERED, atNanos, who + " at " + millis(nanos));
    }

    /** One clause for a finding's detail, e.g. "flushed when the guest disabled APF at 2.000 ms (§4(v))". */
    public String describe() {
        return switch (state) {
            case AT_WORKER -> "still at a paging worker" + (atNanos < 0 ? "" : " (issued at " + millis(atNanos) + ")");
            case QUEUED -> "completed" + at() + ", its page-ready still queued on the host's done list";
            case DELIVERED -> "page-ready delivered" + at() + (consumedBy == null ? "" : " and consumed by " + consumedBy);
            case SUPPRESSED -> "completed" + at() + " while APF was disabled: the host sent no page-ready (§2.5)";
            case FLUSHED -> "flushed when the guest disabled APF" + at() + " (§4(v))";
            case NEVER_ISSUED -> "never issued by the host";
            case GONE -> "no longer known to the host: its page-ready came before this wait";
        };
    }

    private String at() {
        return atNanos < 0 ? "" : " at " + millis(atNanos);
    }

    /** Virtual time as findings print it: "2.000 ms". */
    public static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
    }
}
