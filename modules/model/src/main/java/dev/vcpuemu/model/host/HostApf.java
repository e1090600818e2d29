package dev.vcpuemu.model.host;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.abi.ApfArea;
import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Delivery;
import dev.vcpuemu.model.truth.HostTruth;

/**
 * The host half of one vCPU: KVM's per-vCPU async page fault state and rules, run on the
 * vCPU's own thread as in KVM (DESIGN §1.3).
 *
 * <p>Eras ({@link HostEra}), their rules as data in {@link HostRules}: {@code LEGACY_EARLY}
 * (≤4.14) checks neither a pending exception nor the reason word at page-ready, so a completion
 * processed in the exit that queued a not-present makes a second #PF: a double fault (§4(iv)
 * "Legacy", the bug the 4.15 guard fixed). {@code LEGACY_DF_GUARD} (4.15–4.20) has the guard of
 * §2.1 step 5: reason 1 and a pending #PF cancel both, without comparing tokens. {@code LEGACY}
 * (5.0–5.7) also requires no pending exception, which makes the guard unreachable (the 2020
 * revert). {@code LEGACY_FIXED} adds the mid-2020 rule "page-ready only for an injected
 * not-present" (hazard viii). The interrupt host has the dated fixes of
 * {@link Settings.HostFixes}. The two proposed designs ({@code ERROR_CODE}, {@code VE}) are the
 * newest interrupt host with another not-present channel, used when the guest sets their
 * enable bit (4 or 5, reserved in real KVM).
 *
 * <ul>
 *   <li>§2.0: at a fault on a non-resident frame, choose between a synchronous fault
 *       ({@code !kvm_can_do_async_pf()} or the 64-item limit), a synthetic halt (the gfn is
 *       already outstanding, or the not-present cannot be delivered) and an injected
 *       not-present #PF with {@code CR2 = token}.</li>
 *   <li>§2.1 and §2.2: page-ready, through the era's {@link PageReadyChannel}: the completion
 *       check below is one loop for both, the channel decides what may be dequeued and how an
 *       item is sent; nothing is sent for a not-present that was not injected from the mid-2020
 *       fix on.</li>
 *   <li>§2.4: in guest mode (L2 runs for a guest that is itself KVM) a not-present is delivered
 *       only if L1 set EN bit 2, and then as a #PF VM exit to L1 (the vCPU makes any async #PF
 *       raised in guest mode one); without bit 2 the fault gets a synthetic halt, or before
 *       2019 (≤4.20) a synchronous fault, as {@code kvm_can_do_async_pf} refused guest mode.</li>
 *   <li>§2.5: with APF disabled the same async work still exists, but completions only end
 *       the synthetic halt.</li>
 * </ul>
 * Token format and limits are §2.7. The id counter starts at {@code host.token-id-start}, so
 * with 1 vCPU 3's tokens are 0x1003, 0x2003, … as in §5 behaviour 7.
 */
public final class HostApf {
    public static final int ASYNC_PF_PER_VCPU = 64;

    /** What the host did about a fault on a non-resident frame. */
    public enum Decision { SYNCHRONOUS, SYNTHETIC_HALT, NOT_PRESENT_INJECTED }

    private final HostEra era;
    private final HostRules rules;
    private final PageReadyChannel channel;
    private final boolean ignoreInterruptFlag;
    private final boolean skipSlotCheck;
    private final boolean injectAtCpl0;
    private final boolean pageReadyToOtherVcpu;
    /** The dated fixes this host has: none for a legacy host, which predates them. */
    private final Settings.HostFixes fixes;
    private boolean inKernelLapic = true;
    private final int vcpuId;
    private final VcpuPort cpu;
    private final HostObserver observer;
    private final Counters counters;
    private final ApfArea area = new ApfArea();

    private long msrEn;
    private boolean sendUserOnly;
    private boolean deliveryAsPfVmexit;
    private int id;
    private final AsyncPfQueue queue;
    private boolean halted;
    private long haltedSince;

    /** A faithful host of {@code era} with every dated fix, token ids from 1, observed by nobody. */
    public HostApf(HostEra era, int vcpuId, VcpuPort cpu, Counters counters) {
        this(era, Settings.HostBugs.NONE, Settings.HostFixes.ALL, 1, vcpuId, cpu, HostObserver.NONE, counters);
    }

    /**
     * @param bugs         the rules this host breaks on purpose (reference.conf {@code host.bugs})
     * @param fixes        the interrupt era's dated fixes it has ({@code host.fixes})
     * @param tokenIdStart the first {@code apf.id} ({@code host.token-id-start})
     */
    public HostApf(HostEra era, Settings.HostBugs bugs, Settings.HostFixes fixes, int tokenIdStart, int vcpuId,
                   VcpuPort cpu, HostObserver observer, Counters counters) {
        this.era = era;
        this.rules = HostRules.of(era);
        this.ignoreInterruptFlag = bugs.ignoreInterruptFlag();
        this.skipSlotCheck = bugs.skipSlotCheck();
        this.injectAtCpl0 = bugs.injectAtCpl0();
        this.pageReadyToOtherVcpu = bugs.pageReadyToOtherVcpu();
        this.fixes = rules.datedFixes() ? fixes : Settings.HostFixes.NONE;
        this.id = tokenIdStart;
        this.vcpuId = vcpuId;
        this.cpu = cpu;
        this.observer = observer;
        this.counters = counters;
        this.queue = new AsyncPfQueue(vcpuId, observer);
        this.channel = PageReadyChannel.create(rules.channel(), this);
    }

    /** The VMM emulates the LAPIC in user space: the APF MSRs then accept only 0 (behaviour 30). */
    public void inKernelLapic(boolean v) {
        this.inKernelLapic = v;
    }

    // ------------------------------------------------------------------ state, for the vCPU and tests

    public ApfArea area() {
        return area;
    }

    public HostEra era() {
        return era;
    }

    public HostRules rules() {
        return rules;
    }

    /** The last value the guest wrote to {@code MSR_KVM_ASYNC_PF_EN} (0 if it never wrote one). */
    public long msrEn() {
        return msrEn;
    }

    /** {@code kvm_pv_async_pf_enabled}: bit 0 on a legacy host, bits 0 and 3 from 5.8 (§2.2). */
    public boolean enabled() {
        long mask = channel.enableMask();
        return (msrEn & mask) == mask;
    }

    /** Whether this host offers {@code feature} in CPUID 0x40000001 (§1.3). */
    public boolean cpuid(KvmFeature feature) {
        return rules.cpuid().contains(feature);
    }

    public boolean halted() {
        return halted;
    }

    public boolean hasDone() {
        return queue.hasDone();
    }

    public int queued() {
        return queue.queued();
    }

    /** Interrupt era: a page-ready interrupt was raised and the guest has not ACKed it yet. */
    public boolean pageReadyPending() {
        return channel instanceof PageReadyChannel.TokenSlot slot && slot.pageReadyPending();
    }

    public boolean outstanding(int gfn) {
        return queue.outstanding(gfn);
    }

    /** Tokens flushed by a disable (§2.5): issued, never to be delivered. */
    public long flushed() {
        return queue.flushed();
    }

    /** Tokens still at a paging worker or on the done list (wake-all items are not tokens). */
    public long outstandingTokens() {
        return queue.outstandingTokens();
    }

    /** The item of {@code token} if it is still at a paging worker (ground truth), else null. */
    public WorkItem atWorker(int token) {
        return queue.atWorker(token);
    }

    /** Whether {@code item} belongs to an enable epoch that a disable has since flushed (§2.5). */
    public boolean stale(WorkItem item) {
        return queue.stale(item);
    }

    /** What this host knows of each token, for the ledger (ground truth). */
    public HostTruth truth() {
        return queue;
    }

    /**
     * Whether the host would send a page-ready (or end its synthetic halt) at the next entry:
     * items are done and the channel may dequeue; on the interrupt host that also needs the
     * {@code KVM_REQ_APF_READY} request, else the done list stays stalled (§4(iv)).
     */
    public boolean completionDeliverable() {
        return queue.hasDone() && channel.deliverableAtEntry();
    }

    // ------------------------------------------------------------------ for the channel

    VcpuPort cpu() {
        return cpu;
    }

    HostObserver observer() {
        return observer;
    }

    Settings.HostFixes fixes() {
        return fixes;
    }

    boolean skipsSlotCheck() {
        return skipSlotCheck;
    }

    boolean inKernelLapic() {
        return inKernelLapic;
    }

    /**
     * {@code interrupt_allowed()} as this host applies it: IF=1 and no shadow, or always, for the
     * buggy host of §4(ii) that ignores IF.
     */
    boolean interruptAllowed() {
        return ignoreInterruptFlag || cpu.interruptAllowed();
    }

    // ------------------------------------------------------------------ MSRs, migration, CR0.PG, LAPIC

    /**
     * A guest WRMSR to one of the APF MSRs. Returns false for a write the host refuses (#GP),
     * which then changes nothing (behaviour 30): reserved bits per era, bit 2 without CPUID bit
     * 10, bit 3 without bit 14, a non-zero value without an in-kernel LAPIC, {@code PF_INT} bits
     * 63:8, and the interrupt-era MSRs on a legacy host.
     */
    public boolean wrmsr(long msr, long value) {
        if (msr != Msr.ASYNC_PF_EN) {
            return channel.wrmsr(msr, value);
        }
        // Each era's CPUID is fixed, so its mask already refuses bit 2 without bit 10 and bit 3 without bit 14.
        if ((value & rules.reservedEnBits()) != 0 || (value != 0 && !inKernelLapic)) {
            return false;
        }
        msrEn = value;
        if (!enabled()) {
            queue.flush();
            return true;
        }
        sendUserOnly = (value & Msr.EN_SEND_ALWAYS) == 0;
        deliveryAsPfVmexit = (value & Msr.EN_DELIVERY_AS_PF_VMEXIT) != 0;
        queueWakeAll();
        return true;
    }

    /** {@code kvm_async_pf_wakeup_all}: queued only if {@code done} is empty (§2.1 host enable). */
    private void queueWakeAll() {
        if (queue.queueWakeAll(cpu.now())) {
            channel.requestCheck();
        }
    }

    /**
     * The VMM migrated the VM (§4(v) "migration"): the destination starts with empty lists, no
     * {@code pageready_pending} and fresh gfns; in-flight work of the source is gone. Then the
     * VMM restores {@code MSR_KVM_ASYNC_PF_EN} (a host-initiated write), whose enable queues the
     * wake-all that restarts every task parked on the source.
     */
    public void migrate() {
        queue.flush();
        channel.reset();
        endHalt();
        observer.event(TraceEvent.HOST_MIGRATED, msrEn);
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
        if (!fixes.keepQueueOnPagingChange()) {
            observer.event(TraceEvent.HOST_PAGING_CHANGE_FLUSHES, pagingOn ? 1 : 0);
            queue.flush();
        } else if (pagingOn) {
            channel.requestCheck();
        }
    }

    /** The guest software-enabled its LAPIC (SPIV): HI-b raises APF_READY (§4(v) 2). */
    public void onLapicEnabled() {
        if (fixes.lapicEnabledCheck()) {
            channel.requestCheck();
        }
    }

    // ------------------------------------------------------------------ §2.0: the decision at a fault

    /** An EPT violation on a non-resident gfn: reference §2.0 steps 2 to 7. */
    public Decision onNonResidentFault(int gfn) {
        boolean guestMode = cpu.guestMode();
        // kvm_can_do_async_pf: every era refuses an event that needs re-injection (§2.0 step 2, behaviour 4).
        boolean canDo = !cpu.eventNeedsReinjection() && interruptAllowed()
                && (!rules.checksPendingException() || !cpu.exceptionPending())
                && !(rules.guestModeNeedsVmexitBit() && guestMode && !deliveryAsPfVmexit);
        if (!canDo) {
            counters.inc(Counter.SYNCHRONOUS_FAULTS);
            return Decision.SYNCHRONOUS;
        }
        if (queue.outstanding(gfn)) {
            startHalt();
            counters.inc(Counter.SYNTHETIC_HALTS);
            return Decision.SYNTHETIC_HALT;
        }
        if (queue.queued() >= ASYNC_PF_PER_VCPU) {
            counters.inc(Counter.SYNCHRONOUS_FAULTS);
            return Decision.SYNCHRONOUS;
        }
        // HI-c (5.17, CVE-2022-48943): the interrupt host never issues a token whose id << 12 is 0.
        if (fixes.nonzeroToken() && (id << 12) == 0) {
            id = 1;
        }
        int token = (id++ << 12) | vcpuId;
        queue.issue(gfn);
        counters.inc(Counter.TOKENS_ISSUED);
        // In guest mode: only if L1 opted into #PF VM exits (bit 2); L1's CR0.PG is 1 then (§2.0 6.4).
        boolean canDeliver = enabled() && !(sendUserOnly && cpu.cpl() == 0 && !injectAtCpl0)
                && (guestMode ? deliveryAsPfVmexit : !fixes.noApfWhilePagingOff() || cpu.pagingEnabled());
        Decision decision;
        if (canDeliver) {
            Delivery d = new Delivery(Delivery.Kind.NOT_PRESENT, token, token & 0xFFFFFFFFL, cpu.now());
            if ((msrEn & Msr.EN_DELIVERY_AS_VE) != 0) {
                // The #VE design: the information travels with the delivery, no shared word.
                cpu.injectVirtualizationException(Apf.REASON_PAGE_NOT_PRESENT, token, d);
            } else if ((msrEn & Msr.EN_NOT_PRESENT_IN_ERROR_CODE) != 0) {
                // The error-code design: the tag is on the exception frame, no shared word.
                cpu.injectTaggedPageFault(token & 0xFFFFFFFFL, Apf.ERROR_CODE_ASYNC_NOT_PRESENT, d);
            } else {
                area.writeWord(Apf.REASON_PAGE_NOT_PRESENT, d);
                cpu.injectPageFault(token & 0xFFFFFFFFL, d);
            }
            counters.inc(Counter.APF_NOT_PRESENT_INJECTED);
            decision = Decision.NOT_PRESENT_INJECTED;
        } else {
            startHalt();
            counters.inc(Counter.SYNTHETIC_HALTS);
            decision = Decision.SYNTHETIC_HALT;
        }
        counters.inc(Counter.WORK_ITEMS_SENT);
        WorkItem item = new WorkItem(vcpuId, token, gfn, false, canDeliver, queue.generation(), cpu.now());
        queue.sent(item);
        cpu.startWork(item);
        return decision;
    }

    // ------------------------------------------------------------------ completions and page-ready

    /**
     * A paging worker finished an item ({@code async_pf_execute}, §1.6 steps 2–4). Returns true
     * if the vCPU must be kicked out of the guest now (interrupt era, empty to non-empty,
     * no {@code pageReadyPending}); a legacy worker only wakes a blocked vCPU.
     */
    public boolean onWorkDone(WorkItem item) {
        counters.inc(Counter.WORK_ITEMS_COMPLETED);
        if (!queue.completed(item)) {
            return false;
        }
        observer.tokenCompleted(item.token());
        return channel.completed(queue.append(item));
    }

    /**
     * host.bugs.page-ready-to-other-vcpu: a page-ready that another vCPU's host dequeued for one
     * of its tokens, to be delivered here (§4(iii) A). It joins this done list like a
     * completion; no gfn of this vCPU is involved.
     */
    public boolean onForeignPageReady(WorkItem item) {
        observer.event(TraceEvent.HOST_TAKES_FOREIGN_PAGE_READY, item.token() & 0xFFFFFFFFL);
        return channel.completed(queue.append(item));
    }

    /** A vCPU entry: the host's {@code vcpu_run} loop pass after an exit or a block. */
    public void onEntry() {
        channel.onEntry();
    }

    /**
     * The completion check of §2.1 and §2.2: while items are done and the channel may dequeue,
     * take one, drop its gfn and send its page-ready, unless APF is disabled or (from the
     * mid-2020 fix) its not-present was never injected; either way a synthetic halt ends. On
     * the 4.15 hosts a pending not-present is cancelled instead (the #DF guard, §2.1 step 5).
     */
    void checkCompletion() {
        int budget = rules.oneCompletionPerCheck() ? 1 : Integer.MAX_VALUE;
        while (queue.hasDone() && channel.canDequeue() && budget-- > 0) {
            WorkItem item = queue.take();
            int token = item.wakeAll() ? Apf.WAKE_ALL_TOKEN : item.token();
            if (rules.doubleFaultGuard() && enabled() && cpu.exceptionPending()
                    && area.word() == Apf.REASON_PAGE_NOT_PRESENT) {
                Delivery cancelled = area.wordOwner();
                area.readAndClearWord();
                cpu.cancelPendingException();
                observer.event(TraceEvent.HOST_DF_GUARD_CANCELS, cancelled.token & 0xFFFFFFFFL);
                if (!item.wakeAll()) {
                    counters.inc(Counter.PAGE_READY_SUPPRESSED);
                    observer.pageReadySuppressed(token);
                }
                endHalt();
                continue;
            }
            boolean send = enabled() && (item.wakeAll() || item.notPresentInjected() || !rules.pageReadyOnlyIfInjected()
                    || foreign(item));
            if (send && handOver(item, token)) {
                endHalt();
                continue;
            }
            if (send) {
                Delivery d = new Delivery(item.wakeAll() ? Delivery.Kind.WAKE_ALL : Delivery.Kind.PAGE_READY,
                        token, token & 0xFFFFFFFFL, cpu.now());
                channel.send(token, d);
                counters.inc(Counter.APF_PAGE_READY_INJECTED);
                if (item.wakeAll()) {
                    counters.inc(Counter.WAKE_ALLS);
                } else if (!foreign(item)) {
                    observer.pageReadySent(item, token, d.atNanos);
                }
            } else if (!item.wakeAll()) {
                counters.inc(Counter.PAGE_READY_SUPPRESSED);
                observer.pageReadySuppressed(token);
            }
            endHalt();
        }
    }

    private boolean foreign(WorkItem item) {
        return queue.foreign(item);
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
        observer.event(TraceEvent.HOST_HANDS_PAGE_READY_OVER, token & 0xFFFFFFFFL);
        observer.pageReadySent(item, token, cpu.now());
        return true;
    }

    // ------------------------------------------------------------------ synthetic halt

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
            observer.latency(LatencyKind.SYNTHETIC_HALT, cpu.now() - haltedSince);
            observer.event(TraceEvent.HOST_SYNTHETIC_HALT_ENDS, 0);
            halted = false;
        }
    }
}
