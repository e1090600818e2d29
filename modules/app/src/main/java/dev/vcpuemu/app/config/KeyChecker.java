package dev.vcpuemu.app.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Finds keys that the project does not know: walks a user's configuration (a topology file
 * parsed on its own, or one {@code --set}) under {@code vcpu-emu} and compares it with the
 * paths of {@code reference.conf}, suggesting the nearest known key. The insides of
 * {@code nmi.sources} and {@code expect.detail-contains} are checked by {@link SettingsReader}
 * (their content is not fixed by reference.conf).
 */
final class KeyChecker {
    static final String ROOT = SettingsLoader.ROOT;
    /** Top-level keys a topology may have: the project's and Pekko's. */
    static final Set<String> ROOTS = Set.of(ROOT, "pekko");
    /** Paths whose content reference.conf does not fix: never descended into. */
    private static final Set<String> OPAQUE = Set.of(ROOT + ".nmi.sources", ROOT + ".expect.detail-contains");

    /** A known object: its children by key; a leaf has no entry in {@link #objects}. */
    private final Map<String, Set<String>> objects = new TreeMap<>();
    /** Every known path below the root, in order. */
    private final List<String> paths = new ArrayList<>();

    KeyChecker(ConfigObject reference) {
        ConfigValue root = reference.get(ROOT);
        if (!(root instanceof ConfigObject)) {
            throw new IllegalStateException("reference.conf has no " + ROOT + " block: is the engine jar on the class path?");
        }
        learn(ROOT, (ConfigObject) root);
    }

    private void learn(String path, ConfigObject obj) {
        objects.put(path, new TreeSet<>(obj.keySet()));
        for (String key : new TreeSet<>(obj.keySet())) {
            String child = path + "." + key;
            paths.add(child);
            ConfigValue v = obj.get(key);
            if (v instanceof ConfigObject && !OPAQUE.contains(child)) {
                learn(child, (ConfigObject) v);
            }
        }
    }

    /**
     * The first unknown key in {@code userRoot} (lowest line first), located by {@code locate}.
     */
    Optional<ConfigProblem> check(ConfigObject userRoot, Function<ConfigValue, String> locate) {
        return unknown(userRoot, locate).stream().findFirst().map(Unknown::problem);
    }

    /** An unknown key: its problem, and its path in the user's configuration (to remove it). */
    record Unknown(ConfigProblem problem, String path) {}

    /** Every unknown key in {@code userRoot}, lowest line first, located by {@code locate}. */
    List<Unknown> unknown(ConfigObject userRoot, Function<ConfigValue, String> locate) {
        List<Found> found = new ArrayList<>();
        for (String key : userRoot.keySet()) {
            ConfigValue v = userRoot.get(key);
            if (key.equals(ROOT)) {
                if (v instanceof ConfigObject) {
                    walk(ROOT, (ConfigObject) v, found);
                }
            } else if (!ROOTS.contains(key)) {
                found.add(new Found(ConfigUtil.joinPath(key), v, "unknown top-level key" + hint(topLevelSuggestions(key))
                        .orElse(" (project keys go under " + ROOT + " { }, Pekko's under pekko { })")));
            }
        }
        return found.stream()
                .sorted(Comparator.comparingInt((Found f) -> line(f.value)).thenComparing(f -> f.path))
                .map(f -> new Unknown(new ConfigProblem(locate.apply(f.value), f.path, f.detail), f.path))
                .toList();
    }

    private void walk(String path, ConfigObject user, List<Found> found) {
        Set<String> children = objects.get(path);
        Set<String> keys;
        try {
            keys = user.keySet();
        } catch (ConfigException.NotResolved e) {
            return; // a substitution; its value is checked after resolution
        }
        for (String key : keys) {
            String child = path + "." + ConfigUtil.joinPath(key);
            ConfigValue v = user.get(key);
            if (!children.contains(key)) {
                found.add(new Found(child, v, "unknown key" + hint(suggestions(path, key)).orElse("")));
            } else if (objects.containsKey(child) && v instanceof ConfigObject) {
                walk(child, (ConfigObject) v, found);
            }
        }
    }

    private static int line(ConfigValue v) {
        return v.origin() == null || v.origin().lineNumber() < 0 ? Integer.MAX_VALUE : v.origin().lineNumber();
    }

    private static Optional<String> hint(List<String> suggestions) {
        return suggestions.isEmpty() ? Optional.empty()
                : Optional.of(" (did you mean " + String.join(" or ", suggestions) + "?)");
    }

    /** A known key that a top-level key was probably meant to be. */
    private List<String> topLevelSuggestions(String key) {
        List<String> out = new ArrayList<>();
        String n = normalize(key);
        for (String root : List.of(ROOT, "pekko")) {
            if (distance(n, normalize(root)) <= 2) {
                out.add(root);
            }
        }
        if (out.isEmpty() && objects.get(ROOT).contains(key)) {
            out.add(ROOT + "." + key);
        }
        if (out.isEmpty()) {
            out.addAll(suggestions(ROOT, key));
        }
        return out;
    }

    /**
     * Known keys that {@code key} under {@code parent} was probably meant to be: a sibling
     * within a small edit distance (or equal but for dashes and case), else the same name
     * elsewhere in the tree; at most three.
     */
    List<String> suggestions(String parent, String key) {
        String n = normalize(key);
        int limit = n.length() <= 3 ? 1 : n.length() <= 6 ? 2 : 3;
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (String sibling : objects.getOrDefault(parent, Set.of())) {
            String s = normalize(sibling);
            int d = distance(n, s);
            if (d > limit && n.length() >= 3 && (s.startsWith(n) || n.startsWith(s))) {
                d = limit;
            }
            if (d <= limit && d < bestScore) {
                best = parent + "." + sibling;
                bestScore = d;
            }
        }
        if (best != null && bestScore <= 1) {
            return List.of(best);
        }
        List<String> elsewhere = new ArrayList<>();
        for (String p : paths) {
            String leaf = p.substring(p.lastIndexOf('.') + 1);
            if (normalize(leaf).equals(n) && !p.equals(parent + "." + key)) {
                elsewhere.add(p);
            }
        }
        if (!elsewhere.isEmpty()) {
            return elsewhere.subList(0, Math.min(3, elsewhere.size()));
        }
        return best == null ? List.of() : List.of(best);
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private record Found(String path, ConfigValue value, String detail) {}
}
