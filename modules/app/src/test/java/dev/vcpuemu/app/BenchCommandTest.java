package dev.vcpuemu.app;

import dev.vcpuemu.app.config.SettingsLoader;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How {@code bench} sizes a topology: vCPUs over guests, and the actors the baseline must match. */
class BenchCommandTest {
    @Test
    void moreVcpusThanOneGuestMayHaveAreSpreadOverTheFewestEqualGuests() {
        assertEquals(1, BenchCommand.guestsFor(1));
        assertEquals(1, BenchCommand.guestsFor(4095));
        assertEquals(2, BenchCommand.guestsFor(4096));
        assertEquals(4, BenchCommand.guestsFor(10_000), "3 guests cannot split 10,000 evenly");
        assertEquals(3, BenchCommand.guestsFor(12_285));
        assertEquals(8_191, BenchCommand.guestsFor(8_191), "a prime: one vCPU per guest is all that divides it");
    }

    @Test
    void theBaselineHasAsManyActorsAsTheSimulation() throws Exception {
        var s = new SettingsLoader().load(Optional.empty(), List.of("topology.guests=3", "topology.vcpus=16",
                "host.paging-workers=3", "nmi.sources=[]")).settings();
        // Per guest 16 vCPUs + 3 workers + the reclaimer + no NMI source; the time-keeper and the collector.
        assertEquals(3 * (16 + 3 + 1) + 2, BenchCommand.actors(s));
    }
}
