package dev.vcpuemu.app.scenario;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every scenario of {@code conf/scenarios/} runs end to end on every host/guest pair (issue 3
 * §5–6): its own {@code expect} block holds on its own pair, and the committed hazard matrix is
 * exactly what the scenarios give now.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HazardMatrixTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));
    private static final Path PAGE = Path.of(System.getProperty("vcpuemu.site", "../../src/site/markdown"))
            .resolve("hazard-matrix.md");

    private List<HazardMatrix.Row> rows;

    @BeforeAll
    void runTheScenarios() throws Exception {
        rows = HazardMatrix.run(CONF.resolve("scenarios"));
    }

    @Test
    void everyScenarioMeetsItsOwnExpectationsOnItsOwnPair() {
        assertFalse(rows.isEmpty());
        for (HazardMatrix.Row r : rows) {
            assertNotNull(r.ownPair(), r.file() + " names a pair the matrix has");
            assertTrue(r.own().met(), r.file() + ": " + r.own().checks());
        }
    }

    @Test
    void theCommittedMatrixIsCurrent() throws Exception {
        String now = HazardMatrix.markdown(rows, "conf/scenarios");
        assertEquals(now, Files.readString(PAGE), PAGE + " is out of date with the scenarios: regenerate it with "
                + "`java -jar modules/app/target/vcpu-emu.jar matrix` (from the project root) and commit it");
    }

    @Test
    void scenariosAreOrderedByTheirHazardNumerals() {
        assertEquals(List.of(1, 4, 5, 6, 9, 14, 15), List.of("i", "iv", "v", "vi", "ix", "xiv", "xv").stream()
                .map(HazardMatrix::roman).toList());
        List<String> hazards = rows.stream().map(HazardMatrix.Row::hazard).toList();
        assertEquals(hazards.stream().sorted((a, b) -> Integer.compare(HazardMatrix.roman(a), HazardMatrix.roman(b))).toList(),
                hazards);
    }
}
