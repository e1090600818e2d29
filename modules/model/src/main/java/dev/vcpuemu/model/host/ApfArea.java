package dev.vcpuemu.model.host;

/**
 * The per-vCPU shared area {@code struct kvm_vcpu_pv_apf_data} (reference §1.4): the one word
 * ({@code reason} before 5.8, {@code flags} after) that the host writes just before injecting
 * and the guest reads and clears in its #PF handler, and the interrupt era's {@code token}
 * slot. Each value carries its ground-truth owner, the delivery it was written for; the race
 * of §4(i) is a handler reading a value whose owner is not its own delivery.
 */
public final class ApfArea {
    public static final int REASON_PAGE_NOT_PRESENT = 1;
    public static final int REASON_PAGE_READY = 2;

    int word;
    Delivery wordOwner;
    int token;
    Delivery tokenOwner;

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

    /** Host side: writes the reason/flags word (it never checks the old value, §2.2). */
    void writeWord(int value, Delivery owner) {
        word = value;
        wordOwner = owner;
    }

    void writeToken(int value, Delivery owner) {
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
