package dev.vcpuemu.app;

import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --set key=value}, shared by every command that loads a topology. */
final class SetOptions {
    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override any configuration key (repeatable).")
    List<String> sets = new ArrayList<>();

    /** The {@code --set}s, then the command's own options as further sets (they win). */
    Typed typed() {
        return new Typed(sets);
    }

    /**
     * Sets made from a command's options ({@code --duration 10s} is {@code run.duration=10s}),
     * remembering how each was typed, so that a bad value names the option the user gave
     * ({@code SettingsLoader.load(file, sets, typed)}).
     */
    static final class Typed {
        final List<String> sets;
        final Map<String, String> typed = new HashMap<>();

        Typed(List<String> sets) {
            this.sets = new ArrayList<>(sets);
        }

        /** {@code option value} as {@code key=value}, the value as HOCON; nothing when value is null. */
        Typed option(String option, Object value, String key) {
            if (value != null) {
                add(option, value.toString(), key + "=" + value);
            }
            return this;
        }

        /** {@code option value} as {@code key="value"}, the value a string (a path); nothing when value is null. */
        Typed string(String option, String value, String key) {
            if (value != null) {
                add(option, value, key + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
            }
            return this;
        }

        private void add(String option, String value, String set) {
            sets.add(set);
            typed.put(set, option + " " + ExploreCommand.quote(value));
        }
    }
}
