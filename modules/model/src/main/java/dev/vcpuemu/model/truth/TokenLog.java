package dev.vcpuemu.model.truth;

/**
 * The last page-ready events of one vCPU's tokens (sent, taken by the wrong handler, flushed),
 * for a wait that starts after its token's page-ready already came and went: a stolen
 * page-ready before the wait is a lost wakeup at once (§4(i)). A fixed ring, newest first on
 * lookup, so that memory does not grow with the tokens issued; an older event falls out, and
 * the wait then only learns that the token is gone.
 *
 * <p>The ring keeps each fate as primitives (and the rare thief's name) rather than as a
 * {@link TokenFate}: an object per event would live for the next 63 events of its vCPU, long
 * enough at 100,000 vCPUs to be promoted and die in the old generation, where only an old
 * collection (G1: after a concurrent mark) reclaims it.
 */
final class TokenLog {
    private static final int SIZE = 64;
    private static final TokenFate.State[] STATES = TokenFate.State.values();
    private final int[] tokens = new int[SIZE];
    private final byte[] states = new byte[SIZE];
    private final long[] atNanos = new long[SIZE];
    private final String[] consumedBy = new String[SIZE];
    private int next;
    private int count;

    void add(int token, TokenFate fate) {
        put(next, token, fate);
        next = (next + 1) % SIZE;
        count = Math.min(SIZE, count + 1);
    }

    /** The newest fate recorded for {@code token}, or null. */
    TokenFate find(int token) {
        int j = newest(token);
        return j < 0 ? null : new TokenFate(STATES[states[j]], atNanos[j], consumedBy[j]);
    }

    /** Replaces the newest fate recorded for {@code token}, if there is one. */
    void update(int token, TokenFate fate) {
        int j = newest(token);
        if (j >= 0) {
            put(j, token, fate);
        }
    }

    private void put(int j, int token, TokenFate fate) {
        tokens[j] = token;
        states[j] = (byte) fate.state().ordinal();
        atNanos[j] = fate.atNanos();
        consumedBy[j] = fate.consumedBy();
    }

    /** The slot of the newest event recorded for {@code token}, or -1. */
    private int newest(int token) {
        for (int i = 1; i <= count; i++) {
            int j = (next - i + SIZE) % SIZE;
            if (tokens[j] == token) {
                return j;
            }
        }
        return -1;
    }
}
