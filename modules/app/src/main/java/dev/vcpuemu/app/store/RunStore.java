package dev.vcpuemu.app.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vcpuemu.engine.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The results store: every command given no explicit output file writes into a directory of
 * its own, {@code runs/<date-time>-<command>-<topology>/} ({@link StoredRun}), points
 * {@code runs/latest} at it (a symbolic link, or where links cannot be made a text file holding
 * the directory's name) and rebuilds {@code runs/index.html} from the run directories found, so
 * the index follows runs that were deleted by hand. A directory's {@value #META} says what ran
 * and, once it ended, its exit code; the command's own files sit beside it.
 */
public final class RunStore {
    /** The store of the working directory. */
    public static final Path DEFAULT_ROOT = Path.of("runs");
    public static final String LATEST = "latest";
    public static final String INDEX = "index.html";
    public static final String META = "run.json";
    public static final String REPORT = "report.json";
    public static final String FAULT_REPORT = "report.fault.json";
    public static final String HTML = "report.html";
    public static final String CONFIG = "config.conf";
    public static final String COMMAND = "command.txt";
    public static final String TRACE = "trace.json";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final DateTimeFormatter DIR_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss");

    private final Path root;

    public RunStore(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /**
     * Whether a {@code run.report} value names a results store rather than a report file: a path
     * that ends in a slash (the default {@code "runs/"}) or names an existing directory.
     */
    public static boolean isStore(String report) {
        return !report.isEmpty() && (report.endsWith("/") || report.endsWith("\\") || Files.isDirectory(Path.of(report)));
    }

    /** What a run is, as the index lists it; {@code commandLine} and {@code config} are kept verbatim. */
    public record RunInfo(String command, String topology, String engine, Long seed, String hostEra, String guestEra,
                          String commandLine, String config) {}

    /**
     * Claims a new run directory, writes what ran into it (the command line, the resolved
     * configuration, {@value #META}), points {@code latest} at it and rebuilds the index.
     */
    public StoredRun start(RunInfo info) throws IOException {
        Files.createDirectories(root);
        OffsetDateTime now = OffsetDateTime.now();
        String base = now.format(DIR_TIME) + "-" + slug(info.command()) + "-" + slug(topologyName(info.topology()));
        Path dir = root.resolve(base);
        // Two runs started in the same second get -2, -3, ...: the directory is claimed atomically.
        for (int n = 2; ; n++) {
            try {
                Files.createDirectory(dir);
                break;
            } catch (FileAlreadyExistsException taken) {
                dir = root.resolve(base + "-" + n);
            }
        }
        ObjectNode meta = JSON.createObjectNode();
        meta.put("command", info.command());
        meta.put("topology", info.topology());
        meta.put("engine", info.engine());
        if (info.seed() != null) {
            meta.put("seed", info.seed());
        }
        meta.put("hostEra", info.hostEra());
        meta.put("guestEra", info.guestEra());
        meta.put("started", now.toString());
        meta.put("commandLine", info.commandLine());
        AtomicFiles.writeString(dir.resolve(COMMAND), info.commandLine() + "\n");
        if (info.config() != null) {
            AtomicFiles.writeString(dir.resolve(CONFIG), info.config());
        }
        StoredRun run = new StoredRun(this, dir, meta);
        run.writeMeta();
        pointLatest(dir.getFileName().toString());
        rebuildIndex();
        return run;
    }

    /** {@code (embedded default)} or a topology file's name without its extension. */
    static String topologyName(String topology) {
        if (topology == null || topology.startsWith("(")) {
            return "default";
        }
        String name = Path.of(topology).getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String slug(String s) {
        String x = s.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^-+|-+$", "");
        return x.isEmpty() ? "x" : x;
    }

    /**
     * Points {@code latest} at {@code name}: a relative symbolic link made beside it and renamed
     * over it in one step, so a reader never finds it missing; where links cannot be made, a
     * text file holding the name.
     */
    void pointLatest(String name) throws IOException {
        Path latest = root.resolve(LATEST);
        Path tmp = root.resolve("." + LATEST + "-" + name);
        try {
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, Path.of(name));
            Files.move(tmp, latest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException | SecurityException noLinks) {
            Files.deleteIfExists(tmp);
            AtomicFiles.writeString(latest, name + "\n");
        }
    }

    /** The directory {@code latest} names, or null when there is none. */
    public Path latest() throws IOException {
        return latestOf(root.resolve(LATEST));
    }

    /** The run directory a {@code latest} link or text file names, or null when it is neither. */
    static Path latestOf(Path latest) throws IOException {
        if (Files.isSymbolicLink(latest)) {
            return latest.resolveSibling(Files.readSymbolicLink(latest));
        }
        if (Files.isRegularFile(latest)) {
            String name = Files.readString(latest, StandardCharsets.UTF_8).strip();
            return name.isEmpty() ? null : latest.resolveSibling(name);
        }
        return null;
    }

    /** The run directories found in the store, newest first (by their start time, then name). */
    public List<StoredRun> runs() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<StoredRun> runs = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.toList()) {
                Path meta = dir.resolve(META);
                if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && Files.isRegularFile(meta)) {
                    JsonNode m = readJson(meta);
                    if (m instanceof ObjectNode o) {
                        runs.add(new StoredRun(this, dir, o));
                    }
                }
            }
        }
        runs.sort(Comparator.comparing(StoredRun::started).thenComparing(StoredRun::name).reversed());
        return runs;
    }

    /** Rewrites {@code index.html} from the run directories there are now. */
    public void rebuildIndex() throws IOException {
        AtomicFiles.writeString(root.resolve(INDEX), RunIndex.html(runs()));
    }

    /** A JSON file's tree, or null when it is missing or not JSON (a run killed while writing it). */
    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            return null;
        }
    }
}
