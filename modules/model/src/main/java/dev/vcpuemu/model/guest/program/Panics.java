package dev.vcpuemu.model.guest.program;

/** The texts of the guest's async #PF panics (≥5.8 {@code __kvm_handle_async_pf}, reference §2.2). */
public final class Panics {
    public static final String IF_OFF = "Host injected async #PF in interrupt disabled region";
    public static final String KERNEL_MODE = "Host injected async #PF in kernel mode";

    private Panics() {
    }
}
