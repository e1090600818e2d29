package dev.vcpuemu.model.truth;

/**
 * The last page-ready events of one vCPU's tokens (sent, taken by the wrong handler, flushed),
 * for a wait that starts after its token's page-ready already came and went: a stolen
 * page-ready before the wait is a lost wakeup at once (§4(i)). A fixed ring, newest first on
 * lookup, so that memory does not grow with the tokens issued; an older event falls out, and
 * the wait then only learns that the token is gone.
 */
final class TokenLog {
    private static final int SIZE = 64;
    private final int[] tokens = new int[SIZE];
    private final TokenFate[] fates = new TokenFate[SIZE];
    private int next;
    private int count;

    void add(int token, TokenFate fate) {
        tokens[next] = token;
        fates[next] = fate;
        next = (next + 1) % SIZE;
        count = Math.min(SIZE, count + 1);
    }

    /** The newest fate recorded for {@code token}, or null. */
    TokenFate find(int token) {
        for (int i = 1; i <= count; i++) {
            int j = (next - i + SIZE) % SIZE;
            if (tokens[j] == token) {
                return fates[j];
            }
        }
        return null;
    }

    /** Replaces the newest fate recorded for {@code token}, if there is one. */
    void update(int token, TokenFate fate) {
        for (int i = 1; i <= count; i++) {
            int j = (next - i + SIZE) % SIZE;
            if (tokens[j] == token) {
                fates[j] = fate;
                return;
            }
        }
    }
}
