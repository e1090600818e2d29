package dev.vcpuemu.app.det;

import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

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
}
