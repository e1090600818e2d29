package dev.vcpuemu.app.report;

import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The expect block judged against a run (DESIGN §4). */
class ExpectationsTest {
    private static final String IF_OFF = "Host injected async #PF in interrupt disabled region";

    private static RunResult result(Map<FindingKind, Long> findings, List<Finding> examples, boolean conserved) {
        return new RunResult(1, 1, Map.of(), findings, examples, new RunResult.Conservation(conserved, ""), "duration",
                null, null, -1, null, Map.of(), List.of(), Map.of());
    }

    private static Settings.Expect expect(List<FindingKind> present, List<FindingKind> absent,
                                          Map<FindingKind, String> detail) {
        return new Settings.Expect(present, absent, detail, true);
    }

    @Test
    void withoutAnExpectBlockAnyFindingFails() {
        Settings.Expect none = expect(List.of(), List.of(), Map.of());
        assertTrue(Expectations.judge(none, result(Map.of(), List.of(), true)).met());
        assertFalse(Expectations.judge(none, result(Map.of(FindingKind.HUNG_TASK, 1L), List.of(), true)).met());
    }

    @Test
    void presentAbsentAndDetailAreEachChecked() {
        Finding panic = new Finding(FindingKind.GUEST_PANIC, 0, 5, IF_OFF, List.of());
        Settings.Expect e = expect(List.of(FindingKind.GUEST_PANIC), List.of(FindingKind.DOUBLE_FAULT),
                Map.of(FindingKind.GUEST_PANIC, IF_OFF));
        assertTrue(Expectations.judge(e, result(Map.of(FindingKind.GUEST_PANIC, 1L), List.of(panic), true)).met());
        assertFalse(Expectations.judge(e, result(Map.of(), List.of(), true)).met(), "missing present kind");
        assertFalse(Expectations.judge(e, result(Map.of(FindingKind.GUEST_PANIC, 1L, FindingKind.DOUBLE_FAULT, 2L),
                List.of(panic), true)).met(), "absent kind found");
        Finding other = new Finding(FindingKind.GUEST_PANIC, 0, 5, "double fault", List.of());
        assertFalse(Expectations.judge(e, result(Map.of(FindingKind.GUEST_PANIC, 1L), List.of(other), true)).met(),
                "detail text missing");
        assertFalse(Expectations.judge(e, result(Map.of(FindingKind.GUEST_PANIC, 1L), List.of(panic), false)).met(),
                "conservation expected");
    }
}
