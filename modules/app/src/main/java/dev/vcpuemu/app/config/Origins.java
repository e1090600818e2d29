package dev.vcpuemu.app.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;

/** Turns Typesafe Config origins into the {@code FILE:LINE} part of a {@link ConfigProblem}. */
final class Origins {
    /** Prefix of the origin description given to every {@code --set} argument. */
    static final String SET_PREFIX = "--set ";

    private Origins() {}

    /** {@code FILE:LINE}, {@code FILE}, {@code --set k=v} or a description; null if none. */
    static String describe(ConfigOrigin o) {
        if (o == null) {
            return null;
        }
        String desc = o.description();
        if (desc != null && desc.startsWith(SET_PREFIX)) {
            return stripLine(desc, o.lineNumber());
        }
        String name = o.filename() != null ? o.filename()
                : o.resource() != null ? o.resource()
                : o.url() != null ? o.url().toString()
                : null;
        if (name == null) {
            return desc == null ? null : stripLine(desc, o.lineNumber());
        }
        return o.lineNumber() >= 0 ? name + ":" + o.lineNumber() : name;
    }

    static String describe(ConfigValue v) {
        return v == null ? null : describe(v.origin());
    }

    /** Whether a value comes from a {@code reference.conf} (a documented default). */
    static boolean isDefault(ConfigValue v) {
        ConfigOrigin o = v.origin();
        if (o == null) {
            return false;
        }
        if (o.resource() != null) {
            return o.resource().endsWith("reference.conf");
        }
        return o.url() != null && o.url().toString().endsWith("reference.conf");
    }

    /** A problem from an exception of Typesafe Config, at the exception's origin. */
    static ConfigProblem fromException(ConfigException e, String fallbackLocation) {
        ConfigOrigin o = e.origin();
        String location = describe(o);
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (o != null && detail.startsWith(o.description() + ": ")) {
            detail = detail.substring(o.description().length() + 2);
        }
        if (location == null) {
            location = fallbackLocation;
        }
        return new ConfigProblem(location, null, detail);
    }

    /** Removes the {@code ": 12"} or {@code ": 12-14"} that Typesafe Config appends to a description. */
    private static String stripLine(String desc, int line) {
        if (line < 0) {
            return desc;
        }
        String suffix = ": " + line;
        int at = desc.lastIndexOf(suffix);
        if (at >= 0 && desc.substring(at + suffix.length()).matches("(-\\d+)?")) {
            return desc.substring(0, at);
        }
        return desc;
    }
}
