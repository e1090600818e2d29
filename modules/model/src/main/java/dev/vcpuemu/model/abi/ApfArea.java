package dev.vcpuemu.model.abi;

import dev.vcpuemu.model.truth.Delivery;

/**
 * The per-vCPU shared area {@code struct kvm_vcpu_pv_apf_data} (reference §1.4): guest memory
 * that the host writes without locks and the guest reads and clears. The one word
 * ({@code reason} before 5.8, {@code flags} after) is written by the host just before it
 * injects and read and cleared by the guest's #PF handler; the interrupt era adds the
 * {@code token} slot of page-ready.
 *
 * <p>Each value carries its ground-truth owner, the delivery it was written for (DESIGN §1.6);
 * the race of §4(i) is a handler reading a value whose owner is not its own delivery. The
 * guest model never reads the owners to decide anything.
 */
public final class ApfArea {
    private int word;
    private Delivery wordOwner;
    private int token;
    private Delivery tokenOwner;

    public int word() {
        return word;
    }

    public Delivery wordOwner() {
        return wordOwner;
    }

    public int token() {
        return token;
    }

    public Delivery tokenOwner() {
        return tokenOwner;
    }

    /** Host side: writes the reason/flags word; it never checks the old value (§2.2). */
    public void writeWord(int value, Delivery owner) {
        word = value;
        wordOwner = owner;
    }

    /** Host side: writes the page-ready token slot. */
    public void writeToken(int value, Delivery owner) {
        token = value;
        tokenOwner = owner;
    }

    /** Guest side: {@code kvm_read_and_reset_pf_reason} / {@code kvm_read_and_reset_apf_flags}. */
    public int readAndClearWord() {
        int v = word;
        word = 0;
        wordOwner = null;
        return v;
    }

    /** Guest side: the page-ready handler's {@code token := 0}. */
    public void clearToken() {
        token = 0;
        tokenOwner = null;
    }
}
