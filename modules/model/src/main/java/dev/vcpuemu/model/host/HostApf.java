package dev.vcpuemu.model.host;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.trace.TraceEvent;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The host half of one vCPU: KVM's per-vCPU async page fault state and rules, run on the
 * vCPU's own thread as in KVM (DESIGN §1.3).
 *
 * <p>Eras ({@link HostEra}): {@code LEGACY_EARLY} (≤4.14) checks neither a pending exception
 * nor the reason word at page-ready, so a completion processed in the exit that queued a
 * not-present makes a second #PF: a double fault (§4(iv) "Legacy", the bug the 4.15 guard
 * fixed). {@code LEGACY_DF_GUARD} (4.15–4.20) has the guard of §2.1 step 5: reason 1 and a
 * pending #PF cancel both, without comparing tokens. {@code LEGACY} (5.0–5.7) also requires no
 * pending exception, which makes the guard unreachable (the 2020 revert). {@code LEGACY_FIXED}
 * adds the mid-2020 rule "page-ready only for an injected not-present" (hazard viii). The
 * interrupt host has the dated fixes of {@link Settings.HostFixes}. The two proposed designs
 * ({@code ERROR_CODE}, {@code VE}) are the newest interrupt host with another not-present
 * channel, used when the guest sets their enable bit (4 or 5, reserved in real KVM).
 *
 * <ul>
 *   <li>§2.0: at a fault on a non-resident frame, choose between a synchronous fault
 *       ({@code !kvm_can_do_async_pf()} or the 64-item limit), a synthetic halt (the gfn is
 *       already outstanding, or the not-present cannot be delivered) and an injected
 *       not-present #PF with {@code CR2 = token}.</li>
 *   <li>§2.1 (legacy host, up to 5.7): page-ready is a #PF with reason 2, at most one per
 *       entry, only with IF=1, no shadow and no pending exception, checked only at entries,
 *       and sent even when its not-present was never injected (before the mid-2020 fix,
 *       hazard viii).</li>
 *   <li>§2.2 (interrupt host, 5.8 on): page-ready writes the token slot and raises vector
 *       {@code vec}; the next one waits until the slot is 0; the worker kicks the vCPU only
 *       on an empty-to-non-empty done list and only without {@code pageReadyPending}; the
 *       ACK clears it and rescans; nothing is sent for a not-present that was not injected.</li>
 *   <li>§2.4: in guest mode (L2 runs for a guest that is itself KVM) a not-present is delivered
 *       only if L1 set EN bit 2, and then as a #PF VM exit to L1 (the vCPU makes any async #PF
 *       raised in guest mode one); without bit 2 the fault gets a synthetic halt, or before
 *       2019 (≤4.20) a synchronous fault, as {@code kvm_can_do_async_pf} refused guest mode.</li>
 *   <li>§2.5: with APF disabled the same async work still exists, but completions only end
 *       the synthetic halt.</li>
 * </ul>
 * Token format and limits are §2.7. The id counter starts at 1, so vCPU 3's tokens are
 * 0x1003, 0x2003, … as in §5 behaviour 7.
 */
public final class HostApf {
    public static final int ASYNC_PF_PER_VCPU = 64;
    public static final int WAKE_ALL_TOKEN = 0xFFFFFFFF;
    public static final long MSR_ASYNC_PF_EN = 0x4b564d02L;
    public static final long MSR_ASYNC_PF_INT = 0x4b564d06L;
    public static final long MSR_ASYNC_PF_ACK = 0x4b564d07L;
    public static final long EN_ENABLED = 1L;
    public static final long EN_SEND_ALWAYS = 1L << 1;
    /** Bit 2: while L2 runs, deliver async #PFs to L1 as #PF VM exits (§1.3, §2.4). */
    public static final long EN_DELIVERY_AS_PF_VMEXIT = 1L << 2;
    public static final long EN_DELIVERY_AS_INT = 1L << 3;
    /** Proposed design: not-present tagged in the #PF error code (a reserved bit in real KVM). */
    public static final long EN_NOT_PRESENT_IN_ERROR_CODE = 1L << 4;
    /** Proposed design: not-present as a #VE-style exception (a reserved bit in real KVM). */
    public static final long EN_DELIVERY_AS_VE = 1L << 5;
    /**
     * The error code of an async not-present in the error-code design: bits 31:16 set, which no
     * real #PF has (Sean's May 2020 suggestion, §3).
     */
    public static final long ERROR_CODE_ASYNC_NOT_PRESENT = 0xFFFF_0000L;

    /** What the host did about a fault on a non-resident frame. */
    public enum Decision { SYNCHRONOUS, SYNTHETIC_HALT, NOT_PRESENT_INJECTED }

    /** The vCPU state the APF logic consults and the actions it takes on the vCPU (§1.5 last bullet). */
    public interface CpuPort {
        long now();

        /** {@code interrupt_allowed()}: IF=1 and no STI/MOV-SS shadow. */
        boolean interruptAllowed();

        boolean exceptionPending();

        /**
         * An exception KVM itself injected is pending (an async #PF). A genuine guest #PF is
         * raised and delivered by the CPU without an exit in between, so no host code ever sees
         * it pending; eras that do not check exceptions must not trip over it either.
         */
        default boolean injectedExceptionPending() {
            return exceptionPending();
        }

        /** {@code get_cpl}: in guest mode, L2's CPL. */
        int cpl();

        /** {@code is_guest_mode}: the vCPU runs L2 for a guest that is itself KVM (§2.4). */
        default boolean guestMode() {
            return false;
        }

        /**
         * An async #PF with {@code CR2 = cr2} (a token). In guest mode {@code kvm_inject_page_fault}
         * makes it a #PF VM exit to L1 with the token as exit qualification, whether or not L1
         * intercepts #PF, and L1's CR2 stays as it is (§2.4 step 3).
         */
        void injectPageFault(long cr2, Delivery delivery);

        /** A #PF whose error code the guest reads from its exception frame (the error-code design). */
        default void injectPageFault(long cr2, long errorCode, Delivery delivery) {
            injectPageFault(cr2, delivery);
        }

        /**
         * The #VE design: a virtualization exception whose information (reason, token) the CPU
         * stores in the area of the nesting level it is delivered at.
         */
        default void injectVirtualizationException(int reason, int token, Delivery delivery) {
            throw new UnsupportedOperationException("this CPU has no #VE delivery");
        }

        /** The #DF guard of 4.15 (§2.1 step 5): the pending #PF is dropped, never delivered. */
        default void cancelPendingException() {}

        /** CR0.PG: paging on (off in SMM and real mode). */
        default boolean pagingEnabled() {
            return true;
        }

        /** The LAPIC is software-enabled (SPIV); a disabled one drops fixed interrupts. */
        default boolean lapicEnabled() {
            return true;
        }

        /**
         * host.bugs.page-ready-to-other-vcpu: hand the page-ready of {@code item} (already
         * dequeued here) to another vCPU, which delivers it (§4(iii) A). False if there is none.
         */
        default boolean pageReadyElsewhere(WorkItem item) {
            return false;
        }

        void raiseIrq(int vector);

        void startWork(WorkItem item);

        /*
         * Ground truth for findings (DESIGN §1.6): what became of each token, told to the vCPU
         * as it happens so that it can keep the fate of the tokens its tasks sleep on. Nothing
         * the guest model decides may depend on these.
         */

        /** The paging work of {@code token} completed; its page-ready is queued on the done list. */
        default void tokenCompleted(int token) {}

        /**
         * The done list gave up {@code token}: its page-ready was sent to the guest
         * ({@code delivered}), or nothing was sent because APF is disabled (§2.5) or its
         * not-present was never injected (§2.2).
         */
        default void pageReadySent(int token, boolean delivered) {}

        /** {@code token} was flushed by a disable (§2.5): no page-ready will ever be sent for it. */
        default void tokenFlushed(int token) {}

        /** A latency the host half observed, in virtual nanoseconds (observation only). */
        default void latency(LatencyKind kind, long nanos) {}

        /** Something the host did that the vCPU does not otherwise see, for timelines; observation only. */
        default void hostEvent(TraceEvent what, long arg) {}

        /** A broken invariant only the host half can see (ground truth, DESIGN §1.6). */
        default void hostFinding(FindingKind kind, String detail) {}

        /** The page-ready of {@code token}, sent earlier, was overwritten in the slot before the guest read it. */
        default void pageReadyOverwritten(int token) {}
    }

    private final HostEra era;
    private final boolean ignoreInterruptFlag;
    private final boolean skipSlotCheck;
    private final boolean injectAtCpl0;
    private final boolean pageReadyToOtherVcpu;
    private final Settings.HostFixes fixes;
    private boolean inKernelLapic = true;
    private final int vcpuId;
    private final CpuPort cpu;
    private final Counters counters;
    private final ApfArea area = new ApfArea();

    private long msrEn;
    private int vector;
    private boolean sendUserOnly;
    private boolean deliveryAsPfVmexit;
    private int id;
    private int generation;
    private final Set<Integer> gfns = new HashSet<>();
    private int queued;
    private final ArrayDeque<WorkItem> done = new ArrayDeque<>();
    private boolean pageReadyPending;
    private boolean readyRequested;
    private boolean halted;
    private long haltedSince;
    private long flushed;
    private long outstandingAtWorkers;
    /** Items at paging workers by token, of any generation: bounded by the work in flight. */
    private final Map<Integer, WorkItem> atWorkers = new HashMap<>();
    private long issued;

    public HostApf(HostEra era, int vcpuId, CpuPort cpu, Counters counters) {
        this(era, Settings.HostBugs.NONE, Settings.HostFixes.ALL, 1, vcpuId, cpu, counters);
    }

    /**
     * @param bugs         the rules this host breaks on purpose (reference.conf {@code host.bugs})
     * @param fixes        the interrupt era's dated fixes it has ({@code host.fixes})
     * @param tokenIdStart the first {@code apf.id} ({@code host.token-id-start})
     */
    public HostApf(HostEra era, Settings.HostBugs bugs, Settings.HostFixes fixes, int tokenIdStart, int vcpuId,
                   CpuPort cpu, Counters counters) {
        this.era = era;
        this.ignoreInterruptFlag = bugs.ignoreInterruptFlag();
        this.skipSlotCheck = bugs.skipSlotCheck();
        this.injectAtCpl0 = bugs.injectAtCpl0();
        this.pageReadyToOtherVcpu = bugs.pageReadyToOtherVcpu();
        this.fixes = fixes;
        this.id = tokenIdStart;
        this.vcpuId = vcpuId;
        this.cpu = cpu;
        this.counters = counters;
    }

    /** The VMM emulates the LAPIC in user space: the APF MSRs then accept only 0 (behaviour 30). */
    public void inKernelLapic(boolean v) {
        this.inKernelLapic = v;
    }

    /**
     * {@code interrupt_allowed()} as this host applies it: IF=1 and no shadow, or always, for the
     * buggy host of §4(ii) that ignores IF.
     */
    private boolean interruptAllowed() {
        return ignoreInterruptFlag || cpu.interruptAllowed();
    }

    public ApfArea area() {
        return area;
    }

    public HostEra era() {
        return era;
    }

    /** The last value the guest wrote to {@code MSR_KVM_ASYNC_PF_EN} (0 if it never wrote one). */
    public long msrEn() {
        return msrEn;
    }

    /** {@code kvm_pv_async_pf_enabled}: bit 0 on a legacy host, bits 0 and 3 from 5.8 (§2.2). */
    public boolean enabled() {
        return era.legacy()
                ? (msrEn & EN_ENABLED) != 0
                : (msrEn & (EN_ENABLED | EN_DELIVERY_AS_INT)) == (EN_ENABLED | EN_DELIVERY_AS_INT);
    }

    /** CPUID 0x40000001 bit 14 ({@code KVM_FEATURE_ASYNC_PF_INT}): the interrupt host and the designs. */
    public boolean cpuidAsyncPfInt() {
        return !era.legacy();
    }

    /** CPUID 0x40000001 bit 10 ({@code KVM_FEATURE_ASYNC_PF_VMEXIT}): from about 4.14 (§1.3, §7). */
    public boolean cpuidAsyncPfVmexit() {
        return era != HostEra.LEGACY_EARLY;
    }

    /** The (hypothetical) CPUID bit of the error-code design. */
    public boolean cpuidNotPresentInErrorCode() {
        return era == HostEra.ERROR_CODE;
    }

    /** The (hypothetical) CPUID bit of the #VE design. */
    public boolean cpuidDeliveryAsVe() {
        return era == HostEra.VE;
    }

    /**
     * Reserved bits of {@code MSR_KVM_ASYNC_PF_EN} (§1.3): 2..5 before bit 2 existed, 3..5 in
     * 4.x–5.7, 4..5 from 5.8. Each design frees its own enable bit.
     */
    long reservedEnBits() {
        return switch (era) {
            case LEGACY_EARLY -> 0x3cL;
            case LEGACY_DF_GUARD, LEGACY, LEGACY_FIXED -> 0x38L;
            case INTERRUPT -> 0x30L;
            case ERROR_CODE -> 0x20L;
            case VE -> 0x10L;
        };
    }

    public boolean halted() {
        return halted;
    }

    public boolean hasDone() {
        return !done.isEmpty();
    }

    public int queued() {
        return queued;
    }

    public boolean pageReadyPending() {
        return pageReadyPending;
    }

    public boolean outstanding(int gfn) {
        return gfns.contains(gfn);
    }

    /** Tokens flushed by a disable (§2.5): issued, never to be delivered. */
    public long flushed() {
        return flushed;
    }

    /** Tokens still at a paging worker or on the done list (wake-all items are not tokens). */
    public long outstandingTokens() {
        return outstandingAtWorkers + done.stream().filter(i -> !i.wakeAll()).count();
    }

    /** The item of {@code token} if it is still at a paging worker (ground truth), else null. */
    public WorkItem atWorker(int token) {
        return atWorkers.get(token);
    }

    /** Whether {@code item} belongs to an enable epoch that a disable has since flushed (§2.5). */
    public boolean stale(WorkItem item) {
        return item.generation() != generation;
    }

    /** Whether a completed {@code token} waits on the done list for its page-ready. */
    public boolean onDoneList(int token) {
        for (WorkItem i : done) {
            if (!i.wakeAll() && i.token() == token) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether this host ever issued {@code token}. Ids count up from 1 in the bits above the
     * vCPU id (§2.7); once they have wrapped, every token with this vCPU's id may have been.
     */
    public boolean everIssued(int token) {
        if ((token & 0xFFF) != vcpuId) {
            return false;
        }
        int n = token >>> 12;
        return issued >= (1 << 20) - 1 || (n >= 1 && n <= issued);
    }

    /**
     * Whether the host would send a page-ready (or end its synthetic halt) at the next entry:
     * items are done and {@code can_dequeue} holds. On the interrupt host that also needs the
     * {@code KVM_REQ_APF_READY} request; a done list without it stays stalled until a later
     * trigger (§4(iv)).
     */
    public boolean completionDeliverable() {
        if (done.isEmpty()) {
            return false;
        }
        if (era.legacy()) {
            return !enabled() || canInjectLegacy();
        }
        return readyRequested && canDequeue();
    }

    /**
     * {@code can_inject_async_page_present} (§2.1): IF=1 and no shadow, and from 4.15-era code no
     * pending exception; the ≤4.14 host does not look, which is how a page-ready lands on a
     * not-present still being delivered.
     */
    private boolean canInjectLegacy() {
        if (earlyLegacy()) {
            return interruptAllowed() && (!cpu.exceptionPending() || cpu.injectedExceptionPending());
        }
        return interruptAllowed() && !cpu.exceptionPending();
    }

    /** Before the pending-exception check (2019): the ≤4.14 host and the 4.15 #DF guard. */
    private boolean earlyLegacy() {
        return era == HostEra.LEGACY_EARLY || era == HostEra.LEGACY_DF_GUARD;
    }

    /** {@code kvm_can_dequeue_async_page_present} (§2.2): disabled, or the slot is free (and, HI-b, the LAPIC on). */
    private boolean canDequeue() {
        return !enabled() || ((area.token() == 0 || skipSlotCheck)
                && (!fixes.lapicEnabledCheck() || cpu.lapicEnabled()));
    }

    /**
     * A guest WRMSR to one of the APF MSRs. Returns false for a write the host refuses (#GP),
     * which then changes nothing (behaviour 30): reserved bits per era, bit 2 without CPUID bit
     * 10, bit 3 without bit 14, a non-zero value without an in-kernel LAPIC, {@code PF_INT} bits
     * 63:8, and the interrupt-era MSRs on a legacy host.
     */
    public boolean wrmsr(long msr, long value) {
        if (msr == MSR_ASYNC_PF_EN) {
            // Each era's CPUID is fixed, so its mask already refuses bit 2 without bit 10 and bit 3 without bit 14.
            if ((value & reservedEnBits()) != 0 || (value != 0 && !inKernelLapic)) {
                return false;
            }
            msrEn = value;
            if (!enabled()) {
                flush();
                return true;
            }
            sendUserOnly = (value & EN_SEND_ALWAYS) == 0;
            deliveryAsPfVmexit = (value & EN_DELIVERY_AS_PF_VMEXIT) != 0;
            queueWakeAll();
            return true;
        }
        if (msr == MSR_ASYNC_PF_INT && !era.legacy()) {
            if ((value & ~0xFFL) != 0 || !inKernelLapic) {
                return false;
            }
            vector = (int) (value & 0xFF);
            return true;
        }
        if (msr == MSR_ASYNC_PF_ACK && !era.legacy()) {
            if ((value & 1) != 0) {
                pageReadyPending = false;
                checkCompletionInterrupt();
            }
            return true;
        }
        return false;
    }

    /** {@code kvm_async_pf_wakeup_all}: queued only if {@code done} is empty (§2.1 host enable). */
    private void queueWakeAll() {
        if (!done.isEmpty()) {
            return;
        }
        done.add(new WorkItem(vcpuId, WAKE_ALL_TOKEN, -1, true, false, generation, cpu.now()));
        queued++;
        readyRequested = true;
    }

    /**
     * The VMM migrated the VM (§4(v) "migration"): the destination starts with empty lists, no
     * {@code pageready_pending} and fresh gfns; in-flight work of the source is gone. Then the
     * VMM restores {@code MSR_KVM_ASYNC_PF_EN} (a host-initiated write), whose enable queues the
     * wake-all that restarts every task parked on the source.
     */
    public void migrate() {
        flush();
        pageReadyPending = false;
        readyRequested = false;
        endHalt();
        cpu.hostEvent(TraceEvent.HOST_MIGRATED, msrEn);
        if (enabled()) {
            queueWakeAll();
        }
    }

    /**
     * CR0.PG changed (SMM entry or RSM, §4(v) 1). Before 2025 any change flushed the queue
     * ({@code kvm_clear_async_pf_completion_queue} and a hash reset): sleepers on those tokens
     * hang. With HI-d the queue is kept and paging coming back raises APF_READY.
     */
    public void onPagingChanged(boolean pagingOn) {
        if (era.legacy() || !fixes.keepQueueOnPagingChange()) {
            cpu.hostEvent(TraceEvent.HOST_PAGING_CHANGE_FLUSHES, pagingOn ? 1 : 0);
            flush();
        } else if (pagingOn) {
            readyRequested = true;
        }
    }

    /** The guest software-enabled its LAPIC (SPIV): HI-b raises APF_READY (§4(v) 2). */
    public void onLapicEnabled() {
        if (!era.legacy() && fixes.lapicEnabledCheck()) {
            readyRequested = true;
        }
    }

    /**
     * Disable, CR0.PG change (before 2025) or migration: every completed item is freed and
     * in-flight ones will be dropped (§2.5).
     */
    private void flush() {
        for (WorkItem i : done) {
            if (!i.wakeAll()) {
                flushed++;
                cpu.tokenFlushed(i.token());
            }
        }
        for (WorkItem i : atWorkers.values()) {
            if (i.generation() == generation) {
                cpu.tokenFlushed(i.token());
            }
        }
        done.clear();
        gfns.clear();
        queued = 0;
        generation++;
    }

    /**
     * An EPT violation on a non-resident gfn: reference §2.0 steps 2 to 7.
     */
    public Decision onNonResidentFault(int gfn) {
        boolean guestMode = cpu.guestMode();
        // "No exception pending" joined kvm_can_do_async_pf only in 2019 (2a266f23550b, §2.0 step 2);
        // until 1dfd (2019) it also refused guest mode without bit 2, later only can_deliver does (§2.4 step 2).
        boolean canDo = interruptAllowed() && (!cpu.exceptionPending() || earlyLegacy())
                && !(earlyLegacy() && guestMode && !deliveryAsPfVmexit);
        if (!canDo) {
            counters.inc(Counter.SYNCHRONOUS_FAULTS);
            return Decision.SYNCHRONOUS;
        }
        if (gfns.contains(gfn)) {
            startHalt();
            counters.inc(Counter.SYNTHETIC_HALTS);
            return Decision.SYNTHETIC_HALT;
        }
        if (queued >= ASYNC_PF_PER_VCPU) {
            counters.inc(Counter.SYNCHRONOUS_FAULTS);
            return Decision.SYNCHRONOUS;
        }
        // HI-c (5.17, CVE-2022-48943): the interrupt host never issues a token whose id << 12 is 0.
        if (!era.legacy() && fixes.nonzeroToken() && (id << 12) == 0) {
            id = 1;
        }
        int token = (id++ << 12) | vcpuId;
        issued++;
        queued++;
        counters.inc(Counter.TOKENS_ISSUED);
        gfns.add(gfn);
        // In guest mode: only if L1 opted into #PF VM exits (bit 2); L1's CR0.PG is 1 then (§2.0 6.4).
        boolean canDeliver = enabled() && !(sendUserOnly && cpu.cpl() == 0 && !injectAtCpl0)
                && (guestMode ? deliveryAsPfVmexit
                        : era.legacy() || !fixes.noApfWhilePagingOff() || cpu.pagingEnabled());
        Decision decision;
        if (canDeliver) {
            Delivery d = new Delivery(Delivery.Kind.NOT_PRESENT, token, token & 0xFFFFFFFFL, cpu.now());
            if ((msrEn & EN_DELIVERY_AS_VE) != 0) {
                // The #VE design: the information travels with the delivery, no shared word.
                cpu.injectVirtualizationException(ApfArea.REASON_PAGE_NOT_PRESENT, token, d);
            } else if ((msrEn & EN_NOT_PRESENT_IN_ERROR_CODE) != 0) {
                // The error-code design: the tag is on the exception frame, no shared word.
                cpu.injectPageFault(token & 0xFFFFFFFFL, ERROR_CODE_ASYNC_NOT_PRESENT, d);
            } else {
                area.writeWord(ApfArea.REASON_PAGE_NOT_PRESENT, d);
                cpu.injectPageFault(token & 0xFFFFFFFFL, d);
            }
            counters.inc(Counter.APF_NOT_PRESENT_INJECTED);
            decision = Decision.NOT_PRESENT_INJECTED;
        } else {
            startHalt();
            counters.inc(Counter.SYNTHETIC_HALTS);
            decision = Decision.SYNTHETIC_HALT;
        }
        outstandingAtWorkers++;
        counters.inc(Counter.WORK_ITEMS_SENT);
        WorkItem item = new WorkItem(vcpuId, token, gfn, false, canDeliver, generation, cpu.now());
        atWorkers.put(token, item);
        cpu.startWork(item);
        return decision;
    }

    /**
     * A paging worker finished an item ({@code async_pf_execute}, §1.6 steps 2–4). Returns true
     * if the vCPU must be kicked out of the guest now (interrupt era, empty to non-empty,
     * no {@code pageReadyPending}); a legacy worker only wakes a blocked vCPU.
     */
    public boolean onWorkDone(WorkItem item) {
        outstandingAtWorkers--;
        atWorkers.remove(item.token(), item);
        counters.inc(Counter.WORK_ITEMS_COMPLETED);
        if (item.generation() != generation) {
            flushed++;
            return false;
        }
        cpu.tokenCompleted(item.token());
        return appendDone(item);
    }

    /**
     * Appends to the done list; in the interrupt era an empty-to-non-empty change raises
     * KVM_REQ_APF_READY, and the vCPU is kicked unless {@code pageReadyPending} (§1.6 step 3).
     */
    private boolean appendDone(WorkItem item) {
        boolean wasEmpty = done.isEmpty();
        done.add(item);
        if (!era.legacy() && wasEmpty) {
            readyRequested = true;
            return !pageReadyPending;
        }
        return false;
    }

    /**
     * host.bugs.page-ready-to-other-vcpu: a page-ready that another vCPU's host dequeued for one
     * of its tokens, to be delivered here (§4(iii) A). It joins this done list like a
     * completion; no gfn of this vCPU is involved.
     */
    public boolean onForeignPageReady(WorkItem item) {
        cpu.hostEvent(TraceEvent.HOST_TAKES_FOREIGN_PAGE_READY, item.token() & 0xFFFFFFFFL);
        return appendDone(item);
    }

    private boolean foreign(WorkItem item) {
        return item.vcpu() != vcpuId;
    }

    /**
     * The page-ready of {@code item} goes to another vCPU (host.bugs.page-ready-to-other-vcpu):
     * this one only dequeues it. Returns whether it was handed over.
     */
    private boolean handOver(WorkItem item, int token) {
        if (!pageReadyToOtherVcpu || item.wakeAll() || foreign(item)) {
            return false;
        }
        if (!cpu.pageReadyElsewhere(item)) {
            return false;
        }
        cpu.hostEvent(TraceEvent.HOST_HANDS_PAGE_READY_OVER, token & 0xFFFFFFFFL);
        pageReadySent(item, token);
        return true;
    }

    /** A vCPU entry: the host's {@code vcpu_run} loop pass after an exit or a block. */
    public void onEntry() {
        if (era.legacy()) {
            checkCompletionLegacy();
        } else if (readyRequested) {
            readyRequested = false;
            checkCompletionInterrupt();
        }
    }

    /** Waking from a synthetic halt: any completion, or a deliverable event (§2.0 step 7). */
    public void endSyntheticHalt() {
        endHalt();
    }

    private void startHalt() {
        halted = true;
        haltedSince = cpu.now();
    }

    private void endHalt() {
        if (halted) {
            cpu.latency(LatencyKind.SYNTHETIC_HALT, cpu.now() - haltedSince);
            cpu.hostEvent(TraceEvent.HOST_SYNTHETIC_HALT_ENDS, 0);
            halted = false;
        }
    }

    /** A page-ready (or wake-all) was injected here: counters, and the token's fate unless another vCPU's host owns it. */
    private void pageReadyInjected(WorkItem item, int token) {
        counters.inc(Counter.APF_PAGE_READY_INJECTED);
        if (item.wakeAll()) {
            counters.inc(Counter.WAKE_ALLS);
        } else if (!foreign(item)) {
            pageReadySent(item, token);
        }
    }

    /** A page-ready for {@code item} went to the guest: its token's fate, and how long it took. */
    private void pageReadySent(WorkItem item, int token) {
        if (item.notPresentInjected()) {
            cpu.latency(LatencyKind.NOT_PRESENT_TO_PAGE_READY, cpu.now() - item.issuedAtNanos());
        }
        cpu.pageReadySent(token, true);
    }

    /**
     * §2.1 page ready (host): while items are done and {@code can_inject_async_page_present}
     * (disabled, or IF=1, no shadow, nothing pending). The injected #PF makes an exception
     * pending, so at most one per entry. Before 2019 nothing pending was not required: the
     * ≤4.14 host injects on top of a pending #PF (a double fault in the guest, §4(iv)); the
     * 4.15 guard instead cancels the pending not-present and sends nothing, whatever the two
     * tokens are (§2.1 step 5). From {@code LEGACY_FIXED} on, nothing is sent for a not-present
     * that was never injected (hazard viii).
     */
    private void checkCompletionLegacy() {
        // The early code handled one item per call [U: the 2.6.38 patch shows only an early return].
        int budget = earlyLegacy() ? 1 : Integer.MAX_VALUE;
        while (!done.isEmpty() && (!enabled() || canInjectLegacy()) && budget-- > 0) {
            WorkItem item = done.poll();
            if (!foreign(item)) {
                queued--;
            }
            int token = dequeue(item);
            if (era == HostEra.LEGACY_DF_GUARD && enabled() && cpu.exceptionPending()
                    && area.word() == ApfArea.REASON_PAGE_NOT_PRESENT) {
                Delivery cancelled = area.wordOwner();
                area.readAndClearWord();
                cpu.cancelPendingException();
                cpu.hostEvent(TraceEvent.HOST_DF_GUARD_CANCELS, cancelled.token & 0xFFFFFFFFL);
                if (!item.wakeAll()) {
                    counters.inc(Counter.PAGE_READY_SUPPRESSED);
                    cpu.pageReadySent(token, false);
                }
                endHalt();
                continue;
            }
            boolean send = enabled() && (item.wakeAll() || item.notPresentInjected() || era != HostEra.LEGACY_FIXED
                    || foreign(item));
            if (send && handOver(item, token)) {
                endHalt();
                continue;
            }
            if (send) {
                Delivery d = new Delivery(item.wakeAll() ? Delivery.Kind.WAKE_ALL : Delivery.Kind.PAGE_READY,
                        token, token & 0xFFFFFFFFL, cpu.now());
                area.writeWord(ApfArea.REASON_PAGE_READY, d);
                cpu.injectPageFault(token & 0xFFFFFFFFL, d);
                pageReadyInjected(item, token);
            } else if (!item.wakeAll()) {
                counters.inc(Counter.PAGE_READY_SUPPRESSED);
                cpu.pageReadySent(token, false);
            }
            endHalt();
        }
    }

    /**
     * §2.2 page ready (host): while items are done and {@code can_dequeue} (disabled, or the
     * token slot is 0); one page-ready outstanding, serialized by the slot and the ACK.
     */
    private void checkCompletionInterrupt() {
        while (!done.isEmpty() && canDequeue()) {
            WorkItem item = done.poll();
            if (!foreign(item)) {
                queued--;
            }
            int token = dequeue(item);
            boolean send = enabled() && (item.wakeAll() || item.notPresentInjected() || foreign(item));
            if (send && handOver(item, token)) {
                endHalt();
                continue;
            }
            if (send) {
                Delivery d = new Delivery(item.wakeAll() ? Delivery.Kind.WAKE_ALL : Delivery.Kind.PAGE_READY,
                        token, token & 0xFFFFFFFFL, cpu.now());
                if (area.token() != 0) {
                    // Only host.bugs.skip-slot-check gets here (§4(iv) "Without the check").
                    cpu.pageReadyOverwritten(area.token());
                    cpu.hostFinding(FindingKind.PAGE_READY_OVERWRITTEN, "host wrote page-ready token 0x"
                            + Integer.toHexString(token) + " over 0x" + Integer.toHexString(area.token())
                            + ", still in the slot: that page-ready is lost (§4(iv))");
                }
                area.writeToken(token, d);
                pageReadyPending = true;
                if (!cpu.lapicEnabled()) {
                    // Before 5.13 nothing stops this: the disabled LAPIC drops the interrupt and the slot stays full (§4(v) 2).
                    cpu.hostEvent(TraceEvent.LAPIC_DROPS_PAGE_READY, token & 0xFFFFFFFFL);
                }
                cpu.raiseIrq(vector);
                cpu.hostEvent(TraceEvent.HOST_INJECT_PAGE_READY, token & 0xFFFFFFFFL);
                pageReadyInjected(item, token);
            } else if (!item.wakeAll()) {
                counters.inc(Counter.PAGE_READY_SUPPRESSED);
                cpu.pageReadySent(token, false);
            }
            endHalt();
        }
    }

    /** Common dequeue step: the token to report and {@code gfns} cleanup (prefault is the worker's page-in). */
    private int dequeue(WorkItem item) {
        if (item.wakeAll()) {
            return WAKE_ALL_TOKEN;
        }
        if (!foreign(item)) {
            gfns.remove(item.gfn());
        }
        return item.token();
    }
}
