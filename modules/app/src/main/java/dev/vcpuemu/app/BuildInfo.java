package dev.vcpuemu.app;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What this build is: the project version, the git commit it was built from and when. The
 * build writes {@value #RESOURCE} (maven-antrun-plugin in the app's pom); a build outside a git
 * checkout (a source tarball) or without git says {@code unknown} for the commit, and a class
 * path without the file (an IDE that skipped the Maven build) says {@code unknown} for all.
 */
public final class BuildInfo {
    static final String RESOURCE = "/dev/vcpuemu/app/build-info.properties";
    static final String UNKNOWN = "unknown";
    private static final Properties PROPERTIES = load();

    private BuildInfo() {
    }

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String version() {
        return get("version");
    }

    /** The full commit id the build was made from, or {@code unknown}. */
    public static String commit() {
        return get("commit");
    }

    /** Whether the working tree had uncommitted changes to tracked files when it was built. */
    public static boolean modified() {
        return Boolean.parseBoolean(PROPERTIES.getProperty("modified", "false"));
    }

    /** When the build was made, ISO 8601 in UTC, or {@code unknown}. */
    public static String date() {
        return get("date");
    }

    /** {@code 1a2b3c4d5e6f} or {@code 1a2b3c4d5e6f+changes}: the commit as people quote it. */
    public static String shortCommit() {
        String c = commit();
        String shown = c.matches("[0-9a-f]{40}") ? c.substring(0, 12) : c;
        return modified() && !c.equals(UNKNOWN) ? shown + "+changes" : shown;
    }

    private static String get(String key) {
        String v = PROPERTIES.getProperty(key, "").strip();
        return v.isEmpty() || v.startsWith("${") ? UNKNOWN : v;
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // No build information: every field reads "unknown".
        }
        return p;
    }
}
