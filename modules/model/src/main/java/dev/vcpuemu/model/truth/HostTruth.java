package dev.vcpuemu.model.truth;

/** What the host half knows of a token, read by the ledger as ground truth (never by the guest model). */
public interface HostTruth {
    /** When the token's work item was issued, if it is still at a paging worker and not flushed; else -1. */
    long atWorkerSince(int token);

    /** The token's work item is still at a paging worker, but a disable has flushed it (§2.5). */
    boolean flushedAtWorker(int token);

    /** The token completed and its page-ready waits on the done list. */
    boolean onDoneList(int token);

    /** Whether this host ever issued the token. */
    boolean everIssued(int token);
}
