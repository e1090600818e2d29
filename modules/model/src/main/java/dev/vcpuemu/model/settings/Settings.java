package dev.vcpuemu.model.settings;

import dev.vcpuemu.model.finding.FindingKind;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Every setting of a run, read once from HOCON ({@code vcpu-emu { ... }}) and validated by
 * the application's loader. Times inside the simulation are virtual nanoseconds; {@link Run#duration}
 * is wall-clock time for the concurrent engine. Each nested record mirrors one block of
 * {@code reference.conf}, where every key is documented.
 */
public record Settings(Run run, Engine engine, Topology topology, Host host, Guest guest,
                       Workload workload, Nmi nmi, Expect expect) {

    /** {@code vcpu-emu.run}: what one invocation does. */
    public record Run(Duration duration, long seed, Duration progressInterval, String report) {}

    /** {@code vcpu-emu.engine}: how the actors are scheduled. */
    public record Engine(long quantumNanos, long opCostNanos, int microOpsPerStep,
                         int mailboxThroughput, int parallelism) {}

    /**
     * {@code vcpu-emu.topology}: {@code guests} independent VMs on one host, each with
     * {@code vcpus} vCPUs (ids 0 to vcpus-1 within the guest), its own memory, sleeper table,
     * paging workers, reclaimer and NMI sources.
     */
    public record Topology(int guests, int vcpus) {
        /** vCPUs one guest may have: their ids travel in the low 12 bits of an APF token (reference §2.7). */
        public static final int MAX_VCPUS = 4095;

        public long totalVcpus() {
            return (long) guests * vcpus;
        }
    }

    /**
     * {@code vcpu-emu.host}: KVM's side.
     *
     * @param tokenIdStart   the first value of each vCPU's {@code apf.id} counter (KVM: 0, so the
     *                       first token of vCPU 0 is 0 on hosts before 5.17, §2.7); a value near
     *                       2^20 makes the ids wrap early (hazard ix)
     * @param migrateAtNanos virtual time at which the VM is live-migrated (§4(v) "migration"),
     *                       -1 for never
     */
    public record Host(HostEra era, long exitIntervalNanos, int pagingWorkers, Latency swapIn,
                       double residentLimit, double evictPerMilli, HostBugs bugs, HostFixes fixes,
                       int tokenIdStart, long migrateAtNanos) {}

    /**
     * {@code vcpu-emu.host.fixes}: the interrupt era's later fixes (reference §2 labels HI-b,
     * HI-c, HI-d and the 2022 CR0.PG rule), each a dated switch; all on is the newest KVM. They
     * apply to the interrupt host and the two proposed designs; a legacy host predates them.
     *
     * @param lapicEnabledCheck        HI-b, 5.13: no page-ready is dequeued while the LAPIC is
     *                                 software-disabled; LAPIC enable raises APF_READY (§4(v) 2)
     * @param nonzeroToken             HI-c, 5.17: never issue token 0 (hazard ix)
     * @param noApfWhilePagingOff      2022: no not-present is injected while CR0.PG=0 (§2.0 6.4)
     * @param keepQueueOnPagingChange  HI-d, 2025: a CR0.PG change keeps the queue and raises
     *                                 APF_READY when paging is back (§4(v) 1); off flushes it
     */
    public record HostFixes(boolean lapicEnabledCheck, boolean nonzeroToken, boolean noApfWhilePagingOff,
                            boolean keepQueueOnPagingChange) {
        public static final HostFixes ALL = new HostFixes(true, true, true, true);
        public static final HostFixes NONE = new HostFixes(false, false, false, false);
    }

    /**
     * {@code vcpu-emu.host.bugs}: switches that make the host break a rule of the reference on
     * purpose, each re-creating a historical bug or a counterfactual of a hazard. All off: the
     * faithful host.
     *
     * @param ignoreInterruptFlag inject async #PF and legacy page-ready with IF=0 or in an
     *                            interrupt shadow (§4(ii) counterfactuals 2 and 3)
     * @param skipSlotCheck       interrupt era: write the next page-ready token while the slot still
     *                            holds one the guest has not consumed (§4(iv) "Without the check")
     * @param injectAtCpl0        inject not-present at CPL0 although the guest asked for user mode
     *                            only (§4(vi) "≥5.8", behaviour 17)
     * @param pageReadyToOtherVcpu deliver each page-ready to the next vCPU instead of the one that
     *                            got the not-present, as the ABI allows and KVM never does
     *                            (§4(iii) interleavings A and B, behaviours 22 and 23)
     */
    public record HostBugs(boolean ignoreInterruptFlag, boolean skipSlotCheck, boolean injectAtCpl0,
                           boolean pageReadyToOtherVcpu) {
        public static final HostBugs NONE = new HostBugs(false, false, false, false);
    }

    /**
     * {@code vcpu-emu.guest}: the Linux guest's side.
     *
     * @param entryFaultProbability chance, at each instrumented point of a legacy guest's #PF
     *                              entry (tracing, context tracking), that it takes a genuine #PF
     *                              (§4(i) "Second window"); ≥5.8 entry code is noinstr
     * @param lapicEnableDelayNanos how long the LAPIC stays software-disabled after boot (§4(v) 2),
     *                              -1 for enabled from the start
     * @param nested                the guest as KVM itself (L1), running L2 vCPU threads (§2.4)
     */
    public record Guest(GuestEra era, boolean asyncPf, boolean preempt, int tasksPerVcpu,
                        int kernelPages, long tickPeriodNanos, long timesliceNanos,
                        long hungTaskTimeoutNanos, long wedgeTimeoutNanos, int mmFaultOps,
                        ApfDisable apfDisable, GuestBugs bugs, double entryFaultProbability,
                        long lapicEnableDelayNanos, Smi smi, Nested nested, Code code) {}

    /**
     * {@code vcpu-emu.guest.code}: how many micro-ops the guest code paths that bound a hazard
     * window take (each one {@code engine.op-cost} of virtual time), calibrated against Linux's
     * real paths (reference.conf gives each one's source). A window is its micro-ops: an NMI due
     * inside them lands inside it.
     *
     * @param pfEntry         #PF delivery to the handler's first read: CR2 (≥5.3), the reason word (≤5.2)
     * @param pfBetweenReads  from that read to the other one (the APF word ≥5.3, CR2 ≤5.2)
     * @param pfAsyncPath     after the APF word read, to the wait (not-present) or wake (page-ready)
     * @param nmiEntry        NMI delivery to nmi_state and the saved CR2
     * @param nmiSample       the NMI handlers and a perf sample without a user call chain
     * @param nmiCallchain    a perf user call-chain walk, up to its user read
     * @param nmiExit         handler return to the CR2 check and IRET
     * @param pageReadyEntry  page-ready interrupt delivery to the token read (≥5.8)
     * @param waitPath        kvm_async_pf_task_wait_schedule to schedule() or HLT
     * @param wakePath        kvm_async_pf_task_wake of one token, with the task's wake-up (a
     *                        wake-all walks the 256 buckets one lock, wake and unlock at a time)
     */
    public record Code(int pfEntry, int pfBetweenReads, int pfAsyncPath, int nmiEntry, int nmiSample,
                       int nmiCallchain, int nmiExit, int pageReadyEntry, int waitPath, int wakePath) {
        /** One micro-op each: the shortest windows, where scripted tests count exact steps. */
        public static final Code MINIMAL = new Code(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    }

    /**
     * {@code vcpu-emu.guest.nested}: the guest kernel is itself KVM (L1) and some of its tasks are
     * the vCPU threads of an L2 VM, running L2 code in guest mode (reference §2.4, variant (d)).
     *
     * @param l2VcpuThreads      tasks per vCPU that run an L2 vCPU (0: the guest runs no VM)
     * @param deliveryAsPfVmexit the guest sets {@code MSR_KVM_ASYNC_PF_EN} bit 2 when the host
     *                           offers CPUID bit 10, as Linux does; off: it never does, and L2
     *                           faults get the synthetic halt, invisible to L1 (behaviour 27)
     */
    public record Nested(int l2VcpuThreads, boolean deliveryAsPfVmexit) {
        public static final Nested NONE = new Nested(0, true);
    }

    /**
     * {@code vcpu-emu.guest.smi}: system management interrupts. SMM entry clears CR0.PG and RSM
     * sets it again, which flushed the host's APF queue before 2025 (§4(v) 1, hazard xi).
     *
     * @param intervalNanos virtual time between two SMIs on each vCPU, -1 for none
     * @param handlerOps    micro-operations the SMM handler runs, one of them a guest-memory access
     */
    public record Smi(long intervalNanos, int handlerOps) {
        public static final Smi NONE = new Smi(-1, 64);
    }

    /**
     * {@code vcpu-emu.guest.bugs}: switches that make the guest kernel break a rule of the
     * reference on purpose. All off: Linux as it is.
     *
     * @param ackBeforeClear the page-ready interrupt handler writes the ACK MSR before it clears
     *                       the token slot (§4(iv) corner, behaviour 29)
     */
    public record GuestBugs(boolean ackBeforeClear) {
        public static final GuestBugs NONE = new GuestBugs(false);
    }

    /**
     * {@code vcpu-emu.guest.apf-disable}: the guest turns APF off during the run, as Linux does
     * when a CPU goes offline ({@code kvm_guest_cpu_offline}: disable, then wake this CPU's
     * sleepers), and optionally on again later (reference §4(v)).
     *
     * @param atNanos virtual time of the disable, -1 for never
     * @param vcpus the vCPUs that do it; empty means all
     * @param wakeAll whether the guest wakes its own sleepers after disabling (off: §4(v) lost wakeup)
     * @param reenableAfterNanos re-enable this long after the disable, -1 for never
     */
    public record ApfDisable(long atNanos, List<Integer> vcpus, boolean wakeAll, long reenableAfterNanos) {
        public static final ApfDisable NEVER = new ApfDisable(-1, List.of(), true, -1);

        public ApfDisable {
            vcpus = List.copyOf(vcpus);
        }

        public boolean appliesTo(int vcpu) {
            return atNanos >= 0 && (vcpus.isEmpty() || vcpus.contains(vcpu));
        }
    }

    /** {@code vcpu-emu.workload}: what each guest task does. */
    public record Workload(int workingSetPages, int mappedPages, AccessPattern pattern,
                           double hotFraction, double hotProbability, int computeOps,
                           double syscallProbability, int syscallAccesses,
                           double preemptOffFraction, double irqOffFraction) {}

    /** {@code vcpu-emu.nmi}. */
    public record Nmi(List<NmiSource> sources) {}

    /**
     * One NMI source (perf, watchdog). An empty target list means every vCPU.
     *
     * @param userReadProbability chance that the handler reads user memory (perf call chains)
     */
    public record NmiSource(String name, List<Integer> targets, long intervalNanos, double jitter,
                            double userReadProbability) {}

    /**
     * {@code vcpu-emu.expect}: what a run must show. All empty means "no finding at all"
     * (DESIGN §4: a run without an expect block).
     */
    public record Expect(List<FindingKind> present, List<FindingKind> absent,
                         Map<FindingKind, String> detailContains, boolean conservation) {
        public boolean isEmpty() {
            return present.isEmpty() && absent.isEmpty() && detailContains.isEmpty();
        }
    }

    /**
     * The host's generation (reference §2, §7); reference.conf {@code host.era} lists them. Its
     * rules are data in {@code model.host.HostRules}; nothing depends on the constants' order.
     */
    public enum HostEra {
        /** KVM 2.6.38 to 4.14 (HL0): no #DF guard, no pending-exception check, no VMEXIT bit. */
        LEGACY_EARLY,
        /** KVM 4.15 to 4.20: the #DF guard cancels a pending not-present at page-ready (§2.1 step 5). */
        LEGACY_DF_GUARD,
        /** KVM 5.0 to 5.7 (HL1): page-ready as a #PF with the reason word (§2.1), sent without a not-present. */
        LEGACY,
        /** HL1 with the mid-2020 fix: page-ready only if its not-present was injected (hazard viii). */
        LEGACY_FIXED,
        /** KVM 5.8 and later: page-ready on an interrupt vector with the token slot (§2.2). */
        INTERRUPT,
        /** Proposed design: not-present tagged in the #PF error code, no shared word (§3). */
        ERROR_CODE,
        /** Proposed design: not-present as a #VE-style exception, one information area per nesting level (§3). */
        VE
    }

    /**
     * The guest kernel's generation (reference §2, §7); reference.conf {@code guest.era} lists
     * them. Each has its class in {@code model.guest.apf} ({@code GuestEras.of}).
     */
    public enum GuestEra {
        /** Linux 2.6.38 to 5.2 (GL-a): reason read before CR2, instrumented entry, halt path. */
        LEGACY_EARLY,
        /** Linux 5.3 to 5.7 (GL-b): CR2 read in the entry code, reason word, halt path. */
        LEGACY,
        /** Linux 5.8 (G58): user-only, panics, but page-ready still a #PF with reason 2 and no INT bit. */
        USER_ONLY,
        /** Linux 5.9 and later (GI): flags word, interrupt page-ready, user-only, panics. */
        INTERRUPT,
        /** The guest of the error-code design. */
        ERROR_CODE,
        /** The guest of the #VE design. */
        VE
    }

    public enum AccessPattern { UNIFORM, HOT_COLD }

    /** A latency distribution in virtual nanoseconds. */
    public record Latency(Distribution distribution, long meanNanos, long minNanos, long maxNanos) {
        public enum Distribution { FIXED, UNIFORM, EXPONENTIAL }

        public long draw(java.util.random.RandomGenerator rng) {
            return switch (distribution) {
                case FIXED -> meanNanos;
                case UNIFORM -> minNanos + (long) (rng.nextDouble() * (maxNanos - minNanos));
                case EXPONENTIAL -> Math.min(maxNanos,
                        minNanos + (long) (-Math.log(1.0 - rng.nextDouble()) * Math.max(1, meanNanos - minNanos)));
            };
        }

        /** The least value {@link #draw} can give. */
        public long lowest() {
            return distribution == Distribution.FIXED ? meanNanos : minNanos;
        }

        /** The greatest value {@link #draw} can give. */
        public long highest() {
            return distribution == Distribution.FIXED ? meanNanos : maxNanos;
        }
    }
}
