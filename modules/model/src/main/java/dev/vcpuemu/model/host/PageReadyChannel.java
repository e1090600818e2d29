package dev.vcpuemu.model.host;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Delivery;

/**
 * How page-ready reaches the guest: the half of the protocol that changed in 5.8. The host's
 * completion check ({@link HostApf}) is the same loop for both; what it may dequeue, how it
 * sends one item, when it runs and which MSRs it answers are the channel's.
 *
 * <ul>
 *   <li>{@link ReasonWord} (KVM ≤5.7, reference §2.1): a #PF with reason 2 and CR2 = token,
 *       only with IF=1, no shadow and (from 2019) no pending exception, checked at every entry,
 *       so at most one per entry; nothing asks for an interrupt window, so one held back by IF=0
 *       waits for the next unrelated exit.</li>
 *   <li>{@link TokenSlot} (KVM ≥5.8, §2.2): the token slot and a fixed interrupt on the vector
 *       of {@code MSR_KVM_ASYNC_PF_INT}; the next item waits until the guest clears the slot,
 *       and the check runs on {@code KVM_REQ_APF_READY} (the worker's empty-to-non-empty
 *       append, wake-all, LAPIC enable, CR0.PG coming back) and inside the ACK write.</li>
 * </ul>
 */
public abstract sealed class PageReadyChannel permits PageReadyChannel.ReasonWord, PageReadyChannel.TokenSlot {

    /** The two channels, as a host era's rules name them. */
    public enum Kind { REASON_WORD, TOKEN_SLOT }

    final HostApf host;

    private PageReadyChannel(HostApf host) {
        this.host = host;
    }

    static PageReadyChannel create(Kind kind, HostApf host) {
        return switch (kind) {
            case REASON_WORD -> new ReasonWord(host);
            case TOKEN_SLOT -> new TokenSlot(host);
        };
    }

    /** The EN bits that together mean "enabled" ({@code kvm_pv_async_pf_enabled}). */
    abstract long enableMask();

    /** The completion check may take the next item now (it is the loop's condition). */
    abstract boolean canDequeue();

    /** Whether the next entry would send a page-ready (or end the synthetic halt); the done list is not empty. */
    abstract boolean deliverableAtEntry();

    /** The host's {@code vcpu_run} pass after an exit or a block. */
    abstract void onEntry();

    /** A completion joined the done list: whether the worker kicks the vCPU out of the guest now. */
    abstract boolean completed(boolean doneWasEmpty);

    /** Sends the page-ready (or wake-all) of one dequeued item. */
    abstract void send(int token, Delivery d);

    /** {@code KVM_REQ_APF_READY}: run the completion check at the next entry. */
    void requestCheck() {}

    /** A migration: the destination starts without a pending page-ready or request. */
    void reset() {}

    /** A WRMSR to one of this channel's MSRs; false for an MSR it does not have, or a refused value (#GP). */
    boolean wrmsr(long msr, long value) {
        return false;
    }

    /** The legacy channel (§2.1). */
    static final class ReasonWord extends PageReadyChannel {
        private ReasonWord(HostApf host) {
            super(host);
        }

        @Override
        long enableMask() {
            return Msr.EN_ENABLED;
        }

        @Override
        boolean canDequeue() {
            return !host.enabled() || canInject();
        }

        /**
         * {@code can_inject_async_page_present}: IF=1 and no shadow, and no pending exception; the
         * hosts before 2019 do not look, which is how a page-ready lands on a not-present still
         * being delivered (a double fault, §4(iv)).
         */
        private boolean canInject() {
            VcpuPort cpu = host.cpu();
            if (!host.rules().checksPendingException()) {
                // kvm_can_do_async_pf of these eras still refuses an event being re-injected (§2.0 step 2).
                return host.interruptAllowed() && !cpu.eventNeedsReinjection()
                        && (!cpu.exceptionPending() || cpu.injectedExceptionPending());
            }
            return host.interruptAllowed() && !cpu.exceptionPending();
        }

        @Override
        boolean deliverableAtEntry() {
            return canDequeue();
        }

        @Override
        void onEntry() {
            host.checkCompletion();
        }

        @Override
        boolean completed(boolean doneWasEmpty) {
            return false;
        }

        @Override
        void send(int token, Delivery d) {
            host.area().writeWord(Apf.REASON_PAGE_READY, d);
            host.cpu().injectPageFault(token & 0xFFFFFFFFL, d);
        }
    }

    /** The interrupt channel (§2.2). */
    static final class TokenSlot extends PageReadyChannel {
        private int vector;
        private boolean pageReadyPending;
        private boolean readyRequested;

        private TokenSlot(HostApf host) {
            super(host);
        }

        @Override
        long enableMask() {
            return Msr.EN_ENABLED | Msr.EN_DELIVERY_AS_INT;
        }

        /** {@code kvm_can_dequeue_async_page_present}: disabled, or the slot is free (and, HI-b, the LAPIC on). */
        @Override
        boolean canDequeue() {
            return !host.enabled() || ((host.area().token() == 0 || host.skipsSlotCheck())
                    && (!host.fixes().lapicEnabledCheck() || host.cpu().lapicEnabled()));
        }

        /** A done list without the request stays stalled until a later trigger (§4(iv)). */
        @Override
        boolean deliverableAtEntry() {
            return readyRequested && canDequeue();
        }

        @Override
        void onEntry() {
            if (readyRequested) {
                readyRequested = false;
                host.checkCompletion();
            }
        }

        /** {@code async_pf_execute} (§1.6 step 3): kick only on empty to non-empty, and not while a page-ready is pending. */
        @Override
        boolean completed(boolean doneWasEmpty) {
            if (doneWasEmpty) {
                readyRequested = true;
                return !pageReadyPending;
            }
            return false;
        }

        @Override
        void send(int token, Delivery d) {
            var area = host.area();
            if (area.token() != 0) {
                // Only host.bugs.skip-slot-check gets here (§4(iv) "Without the check").
                host.observer().pageReadyOverwritten(area.token());
                host.observer().finding(FindingKind.PAGE_READY_OVERWRITTEN, "host wrote page-ready token 0x"
                        + Integer.toHexString(token) + " over 0x" + Integer.toHexString(area.token())
                        + ", still in the slot: that page-ready is lost (§4(iv))");
            }
            area.writeToken(token, d);
            pageReadyPending = true;
            // With HI-b the slot is never written at a disabled LAPIC; before 5.13 the interrupt is dropped
            // and the slot stays full (§4(v) 2).
            if (!host.fixes().lapicEnabledCheck() && !host.cpu().lapicEnabled()) {
                host.observer().event(TraceEvent.LAPIC_DROPS_PAGE_READY, token & 0xFFFFFFFFL);
            }
            host.cpu().raiseIrq(vector);
            host.observer().event(TraceEvent.HOST_INJECT_PAGE_READY, token & 0xFFFFFFFFL);
        }

        @Override
        void requestCheck() {
            readyRequested = true;
        }

        @Override
        void reset() {
            pageReadyPending = false;
            readyRequested = false;
        }

        /** {@code MSR_KVM_ASYNC_PF_INT} (bits 63:8 reserved) and {@code MSR_KVM_ASYNC_PF_ACK} (§1.3). */
        @Override
        boolean wrmsr(long msr, long value) {
            if (msr == Msr.ASYNC_PF_INT) {
                if ((value & ~0xFFL) != 0 || !host.inKernelLapic()) {
                    return false;
                }
                vector = (int) (value & 0xFF);
                return true;
            }
            if (msr == Msr.ASYNC_PF_ACK) {
                if ((value & 1) != 0) {
                    pageReadyPending = false;
                    host.checkCompletion();
                }
                return true;
            }
            return false;
        }

        boolean pageReadyPending() {
            return pageReadyPending;
        }
    }
}
