package dev.vcpuemu.model.host;

import dev.vcpuemu.model.abi.KvmFeature;
import dev.vcpuemu.model.settings.Settings.HostEra;

import java.util.EnumSet;
import java.util.Set;

/**
 * What one host generation does, as data: every rule by which KVM's eras differ (reference
 * §2.0–§2.2, §7), each with its source. {@link #of} is the one place a {@link HostEra} is
 * looked at; the host half reads only these fields.
 *
 * @param channel                  how page-ready reaches the guest: a #PF with reason 2 (≤5.7,
 *                                 §2.1) or the token slot and an interrupt (5.8 on, §2.2)
 * @param checksPendingException   {@code kvm_can_do_async_pf} refuses while an exception is
 *                                 pending ({@code 2a266f23550b}, by 2019, §2.0 step 2); before it
 *                                 the legacy page-ready also lands on a pending not-present
 * @param guestModeNeedsVmexitBit  {@code kvm_can_do_async_pf} refuses guest mode without EN bit 2
 *                                 (≤4.20; from 2019 only {@code can_deliver} checks, §2.4 step 2)
 * @param oneCompletionPerCheck    the completion check takes one item per call [U: the 2.6.38
 *                                 patch shows only an early return]
 * @param doubleFaultGuard         the 4.15 guard: reason 1 and a pending #PF at page-ready cancel
 *                                 both, without comparing tokens (§2.1 step 5)
 * @param pageReadyOnlyIfInjected  nothing is sent for a not-present that was not injected (the
 *                                 mid-2020 bugzilla 208081 fix, hazard viii; always in 5.8)
 * @param reservedEnBits           bits of {@code MSR_KVM_ASYNC_PF_EN} whose write gets #GP (§1.3)
 * @param cpuid                    the CPUID 0x40000001 bits the host offers (§1.3)
 * @param datedFixes               the interrupt era's later fixes ({@code host.fixes}) apply;
 *                                 a legacy host predates them all
 */
public record HostRules(PageReadyChannel.Kind channel, boolean checksPendingException, boolean guestModeNeedsVmexitBit,
                        boolean oneCompletionPerCheck, boolean doubleFaultGuard, boolean pageReadyOnlyIfInjected,
                        long reservedEnBits, Set<KvmFeature> cpuid, boolean datedFixes) {

    public HostRules {
        cpuid = Set.copyOf(cpuid);
    }

    /** The rules of {@code era}. */
    public static HostRules of(HostEra era) {
        var word = PageReadyChannel.Kind.REASON_WORD;
        var slot = PageReadyChannel.Kind.TOKEN_SLOT;
        var vmexit = EnumSet.of(KvmFeature.ASYNC_PF_VMEXIT);
        var interrupt = EnumSet.of(KvmFeature.ASYNC_PF_VMEXIT, KvmFeature.ASYNC_PF_INT);
        return switch (era) {
            // KVM 2.6.38–4.14 (HL0): reserved bits 2..5, no bit 10.
            case LEGACY_EARLY -> new HostRules(word, false, true, true, false, false, 0x3cL,
                    EnumSet.noneOf(KvmFeature.class), false);
            // KVM 4.15–4.20: the #DF guard; bit 2 and CPUID bit 10 exist, reserved bits 3..5.
            case LEGACY_DF_GUARD -> new HostRules(word, false, true, true, true, false, 0x38L, vmexit, false);
            // KVM 5.0–5.7 (HL1): the pending-exception check makes the guard unreachable (the 2020 revert).
            case LEGACY -> new HostRules(word, true, false, false, false, false, 0x38L, vmexit, false);
            case LEGACY_FIXED -> new HostRules(word, true, false, false, false, true, 0x38L, vmexit, false);
            // KVM 5.8 on: reserved bits 4..5.
            case INTERRUPT -> new HostRules(slot, true, false, false, false, true, 0x30L, interrupt, true);
            // The proposed designs: the newest interrupt host, each with its own enable bit freed.
            case ERROR_CODE -> new HostRules(slot, true, false, false, false, true, 0x20L,
                    EnumSet.of(KvmFeature.ASYNC_PF_VMEXIT, KvmFeature.ASYNC_PF_INT, KvmFeature.NOT_PRESENT_IN_ERROR_CODE),
                    true);
            case VE -> new HostRules(slot, true, false, false, false, true, 0x10L,
                    EnumSet.of(KvmFeature.ASYNC_PF_VMEXIT, KvmFeature.ASYNC_PF_INT, KvmFeature.ASYNC_PF_VE), true);
        };
    }

    /** Page-ready as a #PF with the reason word (§2.1). */
    public boolean pageReadyAsPageFault() {
        return channel == PageReadyChannel.Kind.REASON_WORD;
    }
}
