package dev.vcpuemu.model.truth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The ring of recent page-ready events gives back each fate whole, newest first, and forgets the oldest. */
class TokenLogTest {

    @Test
    void givesBackTheNewestFateOfATokenWhole() {
        TokenLog log = new TokenLog();
        log.add(0x1001, TokenFate.of(TokenFate.State.DELIVERED, 5_000));
        log.add(0x2001, TokenFate.of(TokenFate.State.FLUSHED, -1));
        log.add(0x1001, new TokenFate(TokenFate.State.DELIVERED, 7_000, "the NMI's #PF handler at 0.008 ms"));

        assertEquals(new TokenFate(TokenFate.State.DELIVERED, 7_000, "the NMI's #PF handler at 0.008 ms"), log.find(0x1001));
        assertEquals(TokenFate.of(TokenFate.State.FLUSHED, -1), log.find(0x2001));
        assertNull(log.find(0x3001), "never recorded");
    }

    @Test
    void updateReplacesOnlyTheNewestEventOfTheToken() {
        TokenLog log = new TokenLog();
        log.add(0x1001, TokenFate.of(TokenFate.State.SUPPRESSED, 1_000));
        log.add(0x1001, TokenFate.of(TokenFate.State.DELIVERED, 2_000));
        TokenFate consumed = new TokenFate(TokenFate.State.DELIVERED, 2_000, "nobody at 0.003 ms");
        log.update(0x1001, consumed);
        log.update(0x4001, TokenFate.of(TokenFate.State.FLUSHED, 9)); // not recorded: nothing to replace
        assertEquals(consumed, log.find(0x1001));
        assertNull(log.find(0x4001));
    }

    @Test
    void theOldestEventFallsOutAfterSixtyFourNewerOnes() {
        TokenLog log = new TokenLog();
        log.add(0x1001, TokenFate.of(TokenFate.State.DELIVERED, 1));
        for (int i = 0; i < 63; i++) {
            log.add(0x2001 + (i << 12), TokenFate.of(TokenFate.State.DELIVERED, 2));
        }
        assertEquals(TokenFate.of(TokenFate.State.DELIVERED, 1), log.find(0x1001), "64 events fit");
        log.add(0x9999001, TokenFate.of(TokenFate.State.DELIVERED, 3));
        assertNull(log.find(0x1001), "the 65th pushed out the oldest");
    }
}
