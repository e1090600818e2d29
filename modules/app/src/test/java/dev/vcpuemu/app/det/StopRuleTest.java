package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run in which the emulator itself failed is a failing run under every rule (explore stops there). */
class StopRuleTest {
    private static final RunResult FAULTED = RunResult.faulted(
            new RunResult.Fault("vcpu-0", "java.lang.ArithmeticException: boom", List.of(), List.of()), 0.1);

    @Test
    void aFaultFailsARunThatLooksForAFindingKind() {
        assertTrue(StopRule.find(FindingKind.LOST_WAKEUP).failed(FAULTED));
    }

    @Test
    void aFaultFailsARunJudgedByItsExpectations() {
        assertTrue(StopRule.unexpected(new Settings.Expect(List.of(), List.of(), Map.of(), true)).failed(FAULTED));
    }

    /** A run to its end with {@code findings}, conservation as given. */
    private static RunResult ended(Map<FindingKind, Long> findings, boolean conserved) {
        return new RunResult(0.1, 1_000_000, Map.of(), findings, List.of(),
                new RunResult.Conservation(conserved, conserved ? "held" : "broken: tokens"), "duration", "h", "m", 10,
                null, Map.of(), List.of(), Map.of());
    }

    @Test
    void theEmulatorFailureRuleNeitherStopsNorFailsOnAnyFinding() {
        StopRule rule = StopRule.emulatorFailure();
        for (FindingKind k : FindingKind.values()) {
            assertFalse(rule.stopsOn().test(k), k.name());
        }
        assertFalse(rule.failed(ended(Map.of(FindingKind.LOST_WAKEUP, 3L, FindingKind.GUEST_PANIC, 1L), true)));
        // The same run fails under the default rule of a topology without an expect block.
        assertTrue(StopRule.unexpected(new Settings.Expect(List.of(), List.of(), Map.of(), true))
                .failed(ended(Map.of(FindingKind.LOST_WAKEUP, 3L), true)));
        assertEquals("an emulator failure", rule.describe());
    }

    @Test
    void theEmulatorFailureRuleFailsOnAFaultOrBrokenConservation() {
        StopRule rule = StopRule.emulatorFailure();
        assertTrue(rule.failed(FAULTED));
        assertTrue(rule.failed(ended(Map.of(), false)));
    }
}
