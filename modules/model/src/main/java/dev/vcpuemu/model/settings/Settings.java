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
        public long totalVcpus() {
            return (long) guests * vcpus;
        }
    }

    /** {@code vcpu-emu.host}: KVM's side. */
    public record Host(HostEra era, long exitIntervalNanos, int pagingWorkers, Latency swapIn,
                       double residentLimit, double evictPerMilli, HostBugs bugs) {}

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
     */
    public record HostBugs(boolean ignoreInterruptFlag, boolean skipSlotCheck, boolean injectAtCpl0) {
        public static final HostBugs NONE = new HostBugs(false, false, false);
    }

    /** {@code vcpu-emu.guest}: the Linux guest's side. */
    public record Guest(GuestEra era, boolean asyncPf, boolean preempt, int tasksPerVcpu,
                        int kernelPages, long tickPeriodNanos, long timesliceNanos,
                        long hungTaskTimeoutNanos, long wedgeTimeoutNanos, int mmFaultOps,
                        ApfDisable apfDisable, GuestBugs bugs) {}

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

    public enum HostEra {
        /** KVM 2.6.38 to 5.7: page-ready as a #PF with the reason word (reference §2.1). */
        LEGACY,
        /** KVM 5.8 and later: page-ready on an interrupt vector with the token slot (§2.2). */
        INTERRUPT
    }

    public enum GuestEra {
        /** Linux 5.3 to 5.7 (GL-b): CR2 read in the entry code, reason word, halt path. */
        LEGACY,
        /** Linux 5.9 and later (GI): flags word, interrupt page-ready, user-only, panics. */
        INTERRUPT
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
    }
}
