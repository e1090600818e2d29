package dev.vcpuemu.model.truth;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.Recorder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The ground truth of one vCPU's tokens (DESIGN §1.6), and the invariants that compare what the
 * guest did with it. The host half and the guest report what they do (through the host's
 * observer port and the guest's calls below); the ledger keeps what the guest cannot see, which
 * injection each handler really serves and what became of each token, and records a finding
 * when an invariant breaks. Nothing the model decides reads it.
 *
 * <p>The invariants it checks, each named after its finding:
 * <ul>
 *   <li>{@link FindingKind#APF_WORD_STOLEN}: a handler reads only the word written for its own
 *       delivery (§4(i) step 5), and {@link FindingKind#SPURIOUS_FAULT_AT_TOKEN}: an async
 *       delivery's handler finds its word ({@link #wordRead});</li>
 *   <li>{@link FindingKind#LOST_WAKEUP}: no task sleeps on a token whose page-ready was already
 *       taken by another handler, whether it was taken before the wait ({@link #waitStarts}) or
 *       during it ({@link #wordRead});</li>
 *   <li>{@link FindingKind#CR2_CLOBBERED}: a handler acts on the CR2 of its own delivery
 *       ({@link #cr2Read});</li>
 *   <li>{@link FindingKind#DUMMY_LEAK}: every dummy a wake leaves is for a not-present some task
 *       will still wait for ({@link #dummyLeft}), and wake-all frees what it unlinks
 *       ({@link #dummyUnlinkedByWakeAll}).</li>
 * </ul>
 * Memory stays bounded however long a run is: one entry per not-present awaiting its wait, per
 * wait in progress, and a fixed ring of recent page-ready events.
 */
public final class Ledger {
    private final int vcpu;
    private final Recorder rec;
    private final LongSupplier clock;
    private HostTruth host;
    private GuestTruth guest;
    /** Not-presents injected whose wait has not looked up its token yet. */
    private final Map<Integer, Delivery> notPresentAwaitingWait = new HashMap<>();
    private final TokenLog recentTokens = new TokenLog();
    private final List<Wait> waits = new ArrayList<>();

    public Ledger(int vcpu, Recorder rec, LongSupplier clock) {
        this.vcpu = vcpu;
        this.rec = rec;
        this.clock = clock;
    }

    /** Connects the two halves it reads (they are built after it). */
    public void connect(HostTruth host, GuestTruth guest) {
        this.host = host;
        this.guest = guest;
    }

    // ------------------------------------------------------------------ what the host did

    /** A not-present was injected (in any form): a wait on its token is to come. */
    public void notPresentInjected(Delivery d) {
        notPresentAwaitingWait.put(d.token, d);
    }

    /** The pending not-present was cancelled before delivery (the 4.15 #DF guard). */
    public void injectionCancelled(Delivery d) {
        notPresentAwaitingWait.remove(d.token);
    }

    /** The paging work of {@code token} completed; its page-ready is queued on the done list. */
    public void tokenCompleted(int token) {
        updateFate(token, TokenFate.of(TokenFate.State.QUEUED, clock.getAsLong()));
    }

    /**
     * The done list gave up {@code token}: its page-ready was sent ({@code delivered}), or nothing
     * was sent because APF is disabled (§2.5) or its not-present was never injected (§2.2).
     */
    public void pageReadySent(int token, boolean delivered) {
        TokenFate fate = TokenFate.of(delivered ? TokenFate.State.DELIVERED : TokenFate.State.SUPPRESSED,
                clock.getAsLong());
        recentTokens.add(token, fate);
        updateFate(token, fate);
    }

    /** {@code token} was flushed by a disable (§2.5): no page-ready will ever be sent for it. */
    public void tokenFlushed(int token) {
        TokenFate fate = TokenFate.of(TokenFate.State.FLUSHED, clock.getAsLong());
        recentTokens.add(token, fate);
        updateFate(token, fate);
    }

    /** The page-ready of {@code token}, sent earlier, was overwritten in the slot before the guest read it (§4(iv)). */
    public void pageReadyOverwritten(int token) {
        pageReadyConsumed(token, "nobody: the host overwrote it in the token slot before the guest read it (§4(iv))");
    }

    // ------------------------------------------------------------------ what the guest did

    /**
     * A #PF handler serving {@code reader} read and cleared the APF word: {@code value}, written
     * for {@code owner}. A non-zero value written for another delivery is stolen (§4(i) step 5):
     * a stolen not-present will never be waited for, a stolen page-ready wakes nobody. An async
     * delivery that finds 0 is handled as a genuine fault at {@code address}, its token.
     */
    public void wordRead(Delivery reader, int value, Delivery owner, boolean inNmi, long address) {
        if (value != 0 && owner != reader) {
            owner.stolen = true;
            String where = inNmi ? " inside an NMI handler" : "";
            rec.finding(FindingKind.APF_WORD_STOLEN, "#PF handler serving " + reader + where + " consumed word "
                    + value + " written for " + owner);
            if (owner.kind == Delivery.Kind.NOT_PRESENT) {
                notPresentAwaitingWait.remove(owner.token);
            } else if (owner.kind == Delivery.Kind.PAGE_READY) {
                pageReadyConsumed(owner.token, "the #PF handler serving " + reader + where + " (§4(i))");
                guest.forEachSleeperOn(owner.token, task -> rec.finding(FindingKind.LOST_WAKEUP, "task " + task
                        + " sleeps on token 0x" + Integer.toHexString(owner.token)
                        + " whose page-ready was consumed by another handler"));
            }
        } else if (value == 0 && reader.isAsync()) {
            rec.finding(FindingKind.SPURIOUS_FAULT_AT_TOKEN, "handler of " + reader
                    + " found the APF word 0 and treats it as a genuine fault at 0x" + Long.toHexString(address));
        }
    }

    /**
     * A ≤5.2 #PF handler that read {@code word} read CR2 only now: a nested #PF in its entry
     * since its delivery overwrote it, and it acts on the wrong token (§4(i) second window,
     * behaviour 21).
     */
    public void cr2Read(Delivery reader, int word, long cr2) {
        if (reader.isAsync() && word != 0 && cr2 != reader.address) {
            rec.finding(FindingKind.CR2_CLOBBERED, "#PF handler serving " + reader + " read CR2 = 0x"
                    + Long.toHexString(cr2) + " after a #PF in its own entry code overwrote it:"
                    + " it acts on token 0x" + Integer.toHexString((int) cr2) + " (§4(i) second window)");
        }
    }

    /** The page-ready of {@code token} was taken by {@code who} without waking its sleeper. */
    public void pageReadyConsumed(int token, String who) {
        TokenFate prior = recentTokens.find(token);
        boolean known = prior != null && prior.state() == TokenFate.State.DELIVERED;
        TokenFate fate = (known ? prior : TokenFate.of(TokenFate.State.DELIVERED, -1)).consumed(who, clock.getAsLong());
        if (known) {
            recentTokens.update(token, fate);
        } else {
            recentTokens.add(token, fate);
        }
        updateFate(token, fate);
    }

    /** A wait looked up {@code token} in the sleeper table: its not-present is no longer awaited. */
    public void waitLookedUp(int token) {
        notPresentAwaitingWait.remove(token);
    }

    /** A wait on {@code token} hashed its node: from now on the ledger follows its fate. */
    public Wait waitStarts(int token) {
        Wait w = new Wait(token, fateAtWait(token));
        waits.add(w);
        return w;
    }

    /** A task starting {@code wait} sleeps on a page-ready already taken elsewhere: it is lost at once. */
    public void checkNotConsumedBefore(Wait wait, int task) {
        if (wait.fate.consumedBy() != null) {
            rec.finding(FindingKind.LOST_WAKEUP, "task " + task + " waits on token 0x"
                    + Integer.toHexString(wait.token) + " whose page-ready was already consumed elsewhere");
        }
    }

    /** The wait returned: its node was unhashed. */
    public void waitEnds(Wait wait) {
        waits.remove(wait);
    }

    /**
     * A wake found no waiter and left a dummy for {@code token}. A token of another vCPU (a
     * page-ready delivered elsewhere) is that vCPU's to wait for; one of this vCPU's must have a
     * not-present whose wait has not come yet, else nothing will ever consume it (§4(viii)).
     */
    public void dummyLeft(int token) {
        if ((token & 0xFFF) == vcpu && !notPresentAwaitingWait.containsKey(token)) {
            rec.finding(FindingKind.DUMMY_LEAK, "dummy for token 0x" + Integer.toHexString(token)
                    + " that no task will ever wait for");
        }
    }

    /** Wake-all unlinked the dummy of {@code token} without freeing it (§4(iii)-B). */
    public void dummyUnlinkedByWakeAll(int token) {
        rec.finding(FindingKind.DUMMY_LEAK, "wake-all unlinked the dummy for token 0x" + Integer.toHexString(token)
                + " without freeing it");
    }

    // ------------------------------------------------------------------ fates

    /** The fate of {@code token} when a wait on it starts; later changes come from the host's reports. */
    private TokenFate fateAtWait(int token) {
        long since = host.atWorkerSince(token);
        if (since >= 0) {
            return TokenFate.of(TokenFate.State.AT_WORKER, since);
        }
        if (host.onDoneList(token)) {
            return TokenFate.of(TokenFate.State.QUEUED, -1);
        }
        TokenFate recent = recentTokens.find(token);
        if (recent != null) {
            return recent;
        }
        if (host.flushedAtWorker(token)) {
            return TokenFate.of(TokenFate.State.FLUSHED, -1);
        }
        return TokenFate.of(host.everIssued(token) ? TokenFate.State.GONE : TokenFate.State.NEVER_ISSUED, -1);
    }

    /** Every wait in progress on {@code token} now has {@code fate}. */
    private void updateFate(int token, TokenFate fate) {
        for (Wait w : waits) {
            if (w.token == token) {
                w.fate = fate;
            }
        }
    }
}
