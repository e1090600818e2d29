package dev.vcpuemu.model.truth;

/**
 * One wait in progress on a token, as the ledger follows it: what became of the token's
 * page-ready (ground truth the waiting guest cannot see). The wait's frame holds it from the
 * moment its node is hashed until the wait returns.
 */
public final class Wait {
    final int token;
    TokenFate fate;

    Wait(int token, TokenFate fate) {
        this.token = token;
        this.fate = fate;
    }

    public int token() {
        return token;
    }

    public TokenFate fate() {
        return fate;
    }
}
