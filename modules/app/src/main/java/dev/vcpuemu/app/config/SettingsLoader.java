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
import java.util.Map;
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
 * whose one-line message names the file and line (or the {@code --set} argument, or the option
 * the user typed) and the key; {@link #problems} lists them all. A topology file must have a
 * {@code vcpu-emu} block: an empty file is bad input, not the default topology.
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
        return load(topologyFile, sets, Map.of());
    }

    /**
     * As {@link #load(Optional, List)}, where a problem with one of the sets that a command made
     * from one of its own options names the option as the user typed it.
     *
     * @param typed for such sets, how the option was typed: {@code "run.duration=abc"} to
     *              {@code "--duration abc"}
     */
    public LoadedSettings load(Optional<Path> topologyFile, List<String> sets, Map<String, String> typed)
            throws ConfigProblem {
        List<ConfigProblem> problems = new ArrayList<>();
        LoadedSettings loaded = check(topologyFile, sets, typed, problems, 1);
        if (!problems.isEmpty()) {
            throw problems.get(0);
        }
        return loaded;
    }

    /**
     * Every problem of a topology file and its sets, for {@code validate}: all unknown keys, bad
     * sets, then each bad value in turn, the keys of those before it set back to their defaults
     * (so that one problem does not hide the next). A syntax error, an unreadable or empty file
     * or a failed substitution ends the list, as nothing after it can be checked.
     *
     * @param limit stop after this many
     * @return the problems in the order met, empty when the topology is valid
     */
    public List<ConfigProblem> problems(Optional<Path> topologyFile, List<String> sets, int limit) {
        List<ConfigProblem> problems = new ArrayList<>();
        check(topologyFile, sets, Map.of(), problems, limit);
        return problems;
    }

    /** Loads, adding the problems met to {@code problems} up to {@code limit}; the settings when there was none. */
    private LoadedSettings check(Optional<Path> topologyFile, List<String> sets, Map<String, String> typed,
                                 List<ConfigProblem> problems, int limit) {
        Config reference = ConfigFactory.defaultReference(classLoader);
        KeyChecker keys = new KeyChecker(reference.root());

        Config file = ConfigFactory.empty();
        String source = EMBEDDED;
        if (topologyFile.isPresent()) {
            Path path = topologyFile.get();
            source = path.toString();
            try {
                file = parseFile(path);
            } catch (ConfigProblem p) {
                problems.add(p);
                return null;
            }
            final String where = source;
            for (KeyChecker.Unknown u : keys.unknown(file.root(), v -> locate(v, where))) {
                if (!add(problems, u.problem(), limit)) {
                    return null;
                }
                file = file.withoutPath(u.path());
            }
            ConfigProblem rootless = rootless(file, source);
            if (rootless != null) {
                add(problems, rootless, limit);
                return null;
            }
        }

        Config stack = file;
        for (String set : sets) {
            String where = typed.getOrDefault(set, Origins.SET_PREFIX + set);
            Config override;
            try {
                override = parseSet(set, where);
            } catch (ConfigProblem p) {
                if (!add(problems, p, limit)) {
                    return null;
                }
                continue;
            }
            Optional<ConfigProblem> unknown = keys.check(override.root(), v -> where);
            if (unknown.isPresent()) {
                if (!add(problems, unknown.get(), limit)) {
                    return null;
                }
                continue;
            }
            stack = override.withFallback(stack);
        }

        Config defaults = ConfigFactory.defaultOverrides(classLoader)
                .withFallback(ConfigFactory.defaultApplication(classLoader))
                .withFallback(reference);
        while (true) {
            Config resolved;
            try {
                resolved = stack.withFallback(defaults).resolve();
            } catch (ConfigException e) {
                add(problems, Origins.fromException(e, source), limit);
                return null;
            }
            try {
                Settings settings = read(resolved);
                return problems.isEmpty() ? new LoadedSettings(settings, resolved, source, sets) : null;
            } catch (ConfigProblem p) {
                if (!add(problems, p, limit)) {
                    return null;
                }
                // Go on with the key back at its default, if the user set it; else nothing more can be learnt.
                String path = p.key().map(k -> k.contains("[") ? k.substring(0, k.indexOf('[')) : k).orElse(null);
                try {
                    if (path == null || !stack.hasPathOrNull(path)) {
                        return null;
                    }
                    stack = stack.withoutPath(path);
                } catch (ConfigException e) {
                    return null;
                }
            }
        }
    }

    /** Adds {@code p}; false when the list has reached {@code limit}. */
    private static boolean add(List<ConfigProblem> problems, ConfigProblem p, int limit) {
        problems.add(p);
        return problems.size() < limit;
    }

    /**
     * A topology file without a {@code vcpu-emu} block is not a topology: an empty file (or one
     * of comments only), or one of Pekko settings only, would otherwise run the defaults and
     * write over the previous report.
     */
    private static ConfigProblem rootless(Config file, String source) {
        if (file.root().containsKey(ROOT)) {
            return null;
        }
        if (file.root().isEmpty()) {
            return new ConfigProblem(source, null, "empty topology file: expected a " + ROOT + " { } block");
        }
        return new ConfigProblem(locate(file.root().values().iterator().next(), source), null,
                "no " + ROOT + " { } block: a topology sets its keys under " + ROOT + " { }");
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
            return ConfigFactory.parseFile(path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)
                    .setIncluder(new RequiredIncluder()));
        } catch (ConfigException.IO e) {
            String why = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getMessage();
            throw new ConfigProblem(shown, null, "cannot read topology file: " + why);
        } catch (ConfigException e) {
            throw Origins.fromException(e, shown);
        }
    }

    /** Parses one {@code --set key=value} into a configuration holding just that key. */
    static Config parseSet(String set) throws ConfigProblem {
        return parseSet(set, Origins.SET_PREFIX + set);
    }

    /** As {@link #parseSet(String)}, problems located at {@code where}. */
    private static Config parseSet(String set, String where) throws ConfigProblem {
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
