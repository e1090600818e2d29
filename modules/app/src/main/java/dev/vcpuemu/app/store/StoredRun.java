package dev.vcpuemu.app.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.engine.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** One run's directory in the {@link RunStore}: where the command writes its files, and what the index shows of it. */
public final class StoredRun {
    private final RunStore store;
    private final Path dir;
    private final ObjectNode meta;

    StoredRun(RunStore store, Path dir, ObjectNode meta) {
        this.store = store;
        this.dir = dir;
        this.meta = meta;
    }

    public Path dir() {
        return dir;
    }

    public String name() {
        return dir.getFileName().toString();
    }

    /** {@code report.json} in the run directory. */
    public Path report() {
        return dir.resolve(RunStore.REPORT);
    }

    /** {@code report.html} in the run directory. */
    public Path html() {
        return dir.resolve(RunStore.HTML);
    }

    /** When the run started; the epoch when its record does not say. */
    Instant started() {
        try {
            return OffsetDateTime.parse(meta.path("started").asText()).toInstant();
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    ObjectNode meta() {
        return meta;
    }

    /**
     * Keeps a file the command wrote elsewhere because the user named it ({@code --trace FILE},
     * {@code --html FILE}) in the run directory too, as {@code name}: a hard link where the file
     * system allows one (no second copy of a large trace), else a copy. Nothing when the file was
     * not written or already is that file.
     */
    public void keep(Path file, String name) throws IOException {
        Path target = dir.resolve(name);
        if (file == null || !Files.isRegularFile(file) || Files.exists(target) && Files.isSameFile(file, target)) {
            return;
        }
        Files.deleteIfExists(target);
        try {
            Files.createLink(target, file);
        } catch (IOException | UnsupportedOperationException | SecurityException noLink) {
            Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Records that the command ended with {@code exitCode} and rebuilds the index; returns {@code exitCode}. */
    public int finish(int exitCode) throws IOException {
        meta.put("exitCode", exitCode);
        meta.put("ended", OffsetDateTime.now().toString());
        writeMeta();
        store.rebuildIndex();
        return exitCode;
    }

    void writeMeta() throws IOException {
        AtomicFiles.writeString(dir.resolve(RunStore.META), RunStore.JSON.writeValueAsString(meta));
    }

    /** The run's report ({@code report.json}, else the fault report), or null when it wrote none. */
    JsonNode reportJson() {
        JsonNode r = RunStore.readJson(report());
        return r != null ? r : RunStore.readJson(dir.resolve(RunStore.FAULT_REPORT));
    }

    /** What came of the run, in a few words: by its exit code, with the report's end reason. */
    String outcome(JsonNode report) {
        JsonNode code = meta.get("exitCode");
        String command = meta.path("command").asText();
        String what;
        if (code == null) {
            what = "unfinished (running, or killed)";
        } else {
            what = switch (code.asInt()) {
                case 0 -> command.equals("explore") ? "no failing run" : command.equals("replay") ? "does not fail" : "ok";
                case 1 -> command.equals("explore") ? "failing run found"
                        : command.equals("replay") ? "reproduced" : "expectations not met";
                case 2 -> "bad input";
                case 3 -> "emulator failure";
                default -> "exit " + code.asInt();
            };
        }
        if (report != null && report.hasNonNull("endReason")) {
            what += " (" + report.get("endReason").asText() + ")";
        }
        return what;
    }

    /** The report's non-zero findings as {@code KIND count}, {@code none}, or for bench results the emulator/raw ratios. */
    static String findings(JsonNode report) {
        if (report == null) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        if (report.has("findings")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = report.get("findings").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getValue().asLong() != 0) {
                    parts.add(f.getKey() + " " + f.getValue().asLong());
                }
            }
            return parts.isEmpty() ? "none" : String.join(", ", parts);
        }
        for (JsonNode size : report.path("sizes")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = size.path("ratios").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> r = it.next();
                if (r.getKey().equals("concurrent") || r.getKey().equals("deterministic")) {
                    parts.add(String.format("%s vCPUs %s %.1f %% of raw", size.path("vcpus").asText(), r.getKey(),
                            100 * r.getValue().asDouble()));
                }
            }
        }
        return String.join(", ", parts);
    }
}
