package dev.vcpuemu.model.guest.program;

import dev.vcpuemu.model.abi.ApfArea;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Delivery;

/**
 * A handler that reads the shared APF word: the #PF handlers of the eras that have one, and
 * KVM-as-L1's #PF VM exit. Between its delivery and its read of the word lies the window of
 * hazard (i): an NMI delivered there whose handler takes a genuine #PF lets that nested
 * handler consume this one's word (reference §4(i) steps 3–5). Each subclass names the steps
 * before its read.
 */
public abstract class ApfHandler extends Frame {
    /**
     * The page an instrumented entry (tracing, context tracking) touches when it faults: a
     * vmalloc'd kernel buffer whose low 32 bits (0xFFF) can never be a token, as no vCPU id is 4095.
     */
    public static final long TRACE_BUFFER = 0xffff_c900_0000_0fffL;

    /** CR2 (or the exit qualification) as this handler read it. */
    protected long address;
    /** The reason/flags word as this handler read it. */
    protected int word;
    /** The instrumented points already passed (bit per point): each may fault once per attempt. */
    private int traced;
    /** This handler has read its word: its window is closed. */
    private boolean wordRead;

    protected ApfHandler(Routine routine) {
        super(routine);
    }

    /**
     * The window of hazard (i) is open: this handler serves an async #PF (not-present or
     * page-ready) and has not read the word yet. An NMI delivered now is in it.
     */
    public final boolean inWindow() {
        return !wordRead && delivery != null
                && (delivery.kind == Delivery.Kind.NOT_PRESENT || delivery.kind == Delivery.Kind.PAGE_READY);
    }

    /**
     * An instrumented point (see {@link #entryFaults}), then the read and clear of the APF word
     * into {@link #word}. False if the point faulted: the read waits for the retry.
     */
    protected final boolean readWordAfterInstrumentation(Kernel k, int point) {
        if (entryFaults(k, point)) {
            return false;
        }
        word = readAndClearWord(k);
        return true;
    }

    /**
     * An instrumented point (tracing, context tracking) of a legacy guest's #PF entry, or of
     * KVM-as-L1's code between a #PF VM exit and its read of the APF word (hazard xiv, any era):
     * with guest.entry-fault-probability it touches a vmalloc'd buffer not yet mapped and takes a
     * genuine #PF there, before the micro-op retires (it runs again after the nested handler).
     * 5.8 and later make the #PF entry noinstr, so their handlers never get here. Returns true if
     * it faulted.
     */
    protected final boolean entryFaults(Kernel k, int point) {
        double p = k.settings().guest().entryFaultProbability();
        if (p <= 0 || (traced & point) != 0 || k.insideLegacyPageFaultEntry(this)) {
            return false;
        }
        traced |= point;
        if (k.rng().nextDouble() >= p) {
            return false;
        }
        k.counters().inc(Counter.GENUINE_PAGE_FAULTS);
        k.rec().event(TraceEvent.ENTRY_INSTRUMENTATION_FAULT, TRACE_BUFFER);
        k.cpu().raisePageFault(TRACE_BUFFER, new Delivery(Delivery.Kind.GENUINE, 0, TRACE_BUFFER, k.now()));
        return true;
    }

    /**
     * {@code kvm_read_and_reset_pf_reason} / {@code kvm_read_and_reset_apf_flags}: 0 unless the
     * guest enabled APF. Ground truth checks what was read against the delivery it was written
     * for (§4(i) step 5).
     */
    protected final int readAndClearWord(Kernel k) {
        if (!k.apfEnabled()) {
            return 0;
        }
        wordRead = true;
        ApfArea area = k.platform().area();
        Delivery owner = area.wordOwner();
        int v = area.readAndClearWord();
        k.rec().event(TraceEvent.READ_CLEAR_APF_WORD, v);
        k.truth().wordRead(delivery, v, owner, k.nmi().nesting() > 0, address);
        return v;
    }
}
