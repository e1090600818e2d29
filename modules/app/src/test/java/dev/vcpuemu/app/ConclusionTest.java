package dev.vcpuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.engine.run.RunResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The end of a run in which the emulator itself failed: exit 3, the fault on stderr and in its own report. */
class ConclusionTest {
    @TempDir
    Path tmp;

    @Test
    void aFaultIsExitThreeWithItsReportBesideTheGoodOne() throws Exception {
        LoadedSettings loaded = new SettingsLoader().load(Optional.empty(), List.of());
        Path report = tmp.resolve("report.json");
        Files.writeString(report, "{\"good\": true}");
        RunResult r = RunResult.faulted(new RunResult.Fault("vcpu-2", "java.lang.IllegalStateException: boom",
                List.of("at dev.vcpuemu.model.vcpu.Vcpu.execute(Vcpu.java:1)"), List.of("t=5 ns deliver NMI")), 1.5);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        Integer exit = Conclusion.conclude("run", "concurrent", loaded, r,
                Expectations.judge(loaded.settings().expect(), r), report, new PrintWriter(out), new PrintWriter(err));

        assertEquals(Main.EMULATOR_FAILURE, exit);
        assertEquals("{\"good\": true}", Files.readString(report), "the earlier good report is untouched");
        assertTrue(err.toString().startsWith("vcpu-emu: emulator failure in vcpu-2 after 1.5 s: "
                + "java.lang.IllegalStateException: boom"), err.toString());
        assertTrue(err.toString().contains("t=5 ns deliver NMI"), err.toString());
        JsonNode fault = new ObjectMapper().readTree(tmp.resolve("report.fault.json").toFile()).get("fault");
        assertEquals("vcpu-2", fault.get("actor").asText());
        assertEquals("at dev.vcpuemu.model.vcpu.Vcpu.execute(Vcpu.java:1)", fault.get("stackTrace").get(0).asText());
        assertEquals("t=5 ns deliver NMI", fault.get("lastEvents").get(0).asText());
    }
}
