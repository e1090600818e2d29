package dev.vcpuemu.app.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.vcpuemu.model.settings.Settings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Loads and validates the configuration of a run (DESIGN §4).
 *
 * <p>Layers, highest first: the {@code --set key=value} arguments (a later one wins), the
 * topology file, then what {@code ConfigFactory.load()} would give (system properties,
 * {@code application.conf}, every {@code reference.conf} on the class path: the engine's, which
 * documents every {@code vcpu-emu} key, and Pekko's). The result is resolved as a whole, so a
 * topology file can refer to defaults with substitutions.
 *
 * <p>Checks, in order: the file can be read and parsed; no unknown key under {@code vcpu-emu}
 * (nor an unknown top-level key) in the file or in a {@code --set}; substitutions resolve; every
 * value has the right type and range. The first problem met is thrown as a {@link ConfigProblem}
 * whose one-line message names the file and line (or the {@code --set} argument) and the key.
 */
public final class SettingsLoader {
    /** The root of every project key. */
    public static final String ROOT = "vcpu-emu";
    /** The source of a run without a topology file. */
    public static final String EMBEDDED = "(embedded default)";

    private final ClassLoader classLoader;

    /** A loader reading {@code reference.conf} and {@code application.conf} through this class's loader. */
    public SettingsLoader() {
        this(SettingsLoader.class.getClassLoader());
    }

    public SettingsLoader(ClassLoader classLoader) {
        this.classLoader = Objects.requireNonNull(classLoader);
    }

    /**
     * Loads, layers, resolves and validates.
     *
     * @param topologyFile the topology file, or empty for the embedded default topology
     * @param sets         {@code key=value} overrides in command-line order; the value is HOCON;
     *                     a key that does not start with {@code vcpu-emu.} or {@code pekko.} is
     *                     taken to be under {@code vcpu-emu}
     * @throws ConfigProblem on any bad input, with a one-line message
     */
    public LoadedSettings load(Optional<Path> topologyFile, List<String> sets) throws ConfigProblem {
        Config reference = ConfigFactory.defaultReference(classLoader);
        KeyChecker keys = new KeyChecker(reference.root());

        Config file = ConfigFactory.empty();
        String source = EMBEDDED;
        if (topologyFile.isPresent()) {
            Path path = topologyFile.get();
            source = path.toString();
            file = parseFile(path);
            final String where = source;
            Optional<ConfigProblem> unknown = keys.check(file.root(), v -> locate(v, where));
            if (unknown.isPresent()) {
                throw unknown.get();
            }
        }

        Config stack = file;
        for (String set : sets) {
            Config override = parseSet(set);
            String where = Origins.SET_PREFIX + set;
            Optional<ConfigProblem> unknown = keys.check(override.root(), v -> where);
            if (unknown.isPresent()) {
                throw unknown.get();
            }
            stack = override.withFallback(stack);
        }

        Config defaults = ConfigFactory.defaultOverrides(classLoader)
                .withFallback(ConfigFactory.defaultApplication(classLoader))
                .withFallback(reference);
        Config resolved;
        try {
            resolved = stack.withFallback(defaults).resolve();
        } catch (ConfigException e) {
            throw Origins.fromException(e, source);
        }
        Settings settings = read(resolved);
        return new LoadedSettings(settings, resolved, source, sets);
    }

    /** {@link #load} without a file and without overrides: the default topology. */
    public LoadedSettings loadDefault() throws ConfigProblem {
        return load(Optional.empty(), List.of());
    }

    /**
     * Reads the {@code vcpu-emu} block of an already resolved configuration (with
     * {@code reference.conf} in it) into validated settings; no unknown-key check.
     */
    public static Settings read(Config resolved) throws ConfigProblem {
        try {
            return new SettingsReader(resolved.root()).read();
        } catch (ConfigException e) {
            throw Origins.fromException(e, null);
        }
    }

    // ------------------------------------------------------------------ parts

    private static Config parseFile(Path path) throws ConfigProblem {
        String shown = path.toString();
        if (!Files.exists(path)) {
            throw new ConfigProblem(shown, null, "cannot read topology file: no such file");
        }
        if (Files.isDirectory(path)) {
            throw new ConfigProblem(shown, null, "cannot read topology file: is a directory");
        }
        if (!Files.isReadable(path)) {
            throw new ConfigProblem(shown, null, "cannot read topology file: permission denied");
        }
        try {
            return ConfigFactory.parseFile(path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException.IO e) {
            String why = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getMessage();
            throw new ConfigProblem(shown, null, "cannot read topology file: " + why);
        } catch (ConfigException e) {
            throw Origins.fromException(e, shown);
        }
    }

    /** Parses one {@code --set key=value} into a configuration holding just that key. */
    static Config parseSet(String set) throws ConfigProblem {
        String where = Origins.SET_PREFIX + set;
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new ConfigProblem(where, null, "expected key=value");
        }
        String key = set.substring(0, eq).strip();
        String value = set.substring(eq + 1);
        if (!(key.equals(ROOT) || key.startsWith(ROOT + ".") || key.equals("pekko") || key.startsWith("pekko."))) {
            key = ROOT + "." + key;
        }
        List<String> segments;
        try {
            segments = ConfigUtil.splitPath(key);
        } catch (ConfigException e) {
            throw new ConfigProblem(where, null, "invalid key " + ConfigUtil.quoteString(key));
        }
        if (value.isBlank()) {
            throw new ConfigProblem(where, key, "missing value (quote an empty string: " + set.substring(0, eq) + "=\"\")");
        }
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(ConfigUtil.joinPath(segments) + " = " + value,
                    ConfigParseOptions.defaults().setOriginDescription(where));
        } catch (ConfigException e) {
            throw Origins.fromException(e, where);
        }
        // The value must be one HOCON value: "a=1, b=2" would set two keys.
        ConfigObject at = parsed.root();
        List<String> walked = new ArrayList<>();
        for (String segment : segments) {
            walked.add(segment);
            if (at.size() != 1 || !at.containsKey(segment)) {
                throw new ConfigProblem(where, key, "the value must be a single HOCON value (quote it if it holds "
                        + "',', '#' or '//')");
            }
            ConfigValue next = at.get(segment);
            if (walked.size() < segments.size()) {
                if (!(next instanceof ConfigObject)) {
                    throw new ConfigProblem(where, key, "the value must be a single HOCON value");
                }
                at = (ConfigObject) next;
            }
        }
        return parsed;
    }

    /** Where a value of the topology file is: {@code FILE:LINE} from its origin, else the file. */
    private static String locate(ConfigValue v, String file) {
        String d = Origins.describe(v);
        return d == null ? file : d;
    }
}
