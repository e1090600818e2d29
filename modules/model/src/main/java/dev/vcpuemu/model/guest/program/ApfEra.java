package dev.vcpuemu.model.guest.program;

/**
 * The guest's async-PF code of one kernel generation, as the shared routines see it
 * (reference §2, §7): how it enables APF at bring-up, which #PF handler it installs, how its
 * wait sleeps. One class per era implements it ({@code model.guest.apf}); the routines never
 * ask which era they run in.
 */
public interface ApfEra {
    /** Whether the guest enables APF at bring-up on this host ({@code kvm_guest_cpu_init}: CPUID checks). */
    boolean enables(Platform platform);

    /**
     * Page-ready as a #PF with reason 2 (§2.1): the legacy guests and 5.8. The others write
     * {@code MSR_KVM_ASYNC_PF_INT} before EN and take page-ready as an interrupt.
     */
    boolean pageReadyAsPageFault();

    /** The bits of {@code MSR_KVM_ASYNC_PF_EN} this guest sets besides bit 0 (and bit 2, see {@link #deliversToL1}). */
    long enableBits(boolean preempt);

    /** Whether it sets EN bit 2 when the host offers CPUID bit 10, as Linux does from 4.14 (§2.1 step 3). */
    boolean deliversToL1();

    /**
     * Whether its wait schedules ({@code kvm_async_pf_task_wait_schedule}, ≥5.8) rather than
     * halting where it cannot schedule (the legacy halt path, §4(vi)).
     */
    boolean waitSchedules();

    /** A new frame of the #PF handler this era installs at vector 14. */
    Frame pageFaultHandler();
}
