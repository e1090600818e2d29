package dev.vcpuemu.model.host;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.trace.TraceEvent;

/**
 * What the host half reports for observation only (DESIGN §1.6): what became of each token,
 * latencies, trace events and the findings only the host can see. Nothing the model decides
 * may depend on these calls; every method has a default that ignores it.
 */
public interface HostObserver {
    HostObserver NONE = new HostObserver() {};

    /** The paging work of {@code token} completed; its page-ready is queued on the done list. */
    default void tokenCompleted(int token) {}

    /** The page-ready of {@code item} ({@code token}, ~0 for none) went to the guest at virtual time {@code atNanos}. */
    default void pageReadySent(WorkItem item, int token, long atNanos) {}

    /** The done list gave up {@code token} and nothing was sent: APF is disabled (§2.5) or its not-present was not injected. */
    default void pageReadySuppressed(int token) {}

    /** {@code token} was flushed by a disable (§2.5): no page-ready will ever be sent for it. */
    default void tokenFlushed(int token) {}

    /** The page-ready of {@code token}, sent earlier, was overwritten in the slot before the guest read it. */
    default void pageReadyOverwritten(int token) {}

    /** A latency the host half observed, in virtual nanoseconds. */
    default void latency(LatencyKind kind, long nanos) {}

    /** Something the host did that the vCPU does not otherwise see, for timelines. */
    default void event(TraceEvent what, long arg) {}

    /** A broken invariant only the host half can see. */
    default void finding(FindingKind kind, String detail) {}
}
