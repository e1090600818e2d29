package dev.vcpuemu.app.config;

import java.util.Optional;

/**
 * Bad configuration input: a topology file that cannot be read or parsed, an unknown key, a
 * value of the wrong type or out of range, a bad {@code --set}. The message is exactly one
 * line, {@code LOCATION: KEY: DETAIL}, where the location is {@code FILE:LINE}, the
 * {@code --set key=value} argument as given, or a command's option as typed ({@code --duration abc}),
 * for example
 * {@code conf/bad.conf:7: vcpu-emu.topology.vcpu: unknown key (did you mean vcpu-emu.topology.vcpus?)}.
 * Either of location and key can be absent (a missing file has no line and no key; a syntax
 * error has no key). The command line prints the message on stderr and exits with 2.
 */
public final class ConfigProblem extends Exception {
    private static final long serialVersionUID = 1L;

    /** Where the problem is ({@code FILE:LINE}, {@code FILE}, {@code --set k=v}, {@code --option value}), or null. */
    private final String location;
    /** The full HOCON path concerned, or null. */
    private final String key;
    private final String detail;

    public ConfigProblem(String location, String key, String detail) {
        super(format(location, key, detail));
        this.location = oneLine(location);
        this.key = oneLine(key);
        this.detail = oneLine(detail);
    }

    /** {@code FILE:LINE}, {@code FILE} or {@code --set key=value}, if the problem has a place. */
    public Optional<String> location() {
        return Optional.ofNullable(location);
    }

    /** The full path of the key concerned (e.g. {@code vcpu-emu.topology.vcpus}), if any. */
    public Optional<String> key() {
        return Optional.ofNullable(key);
    }

    /** What is wrong, without location and key. */
    public String detail() {
        return detail;
    }

    private static String format(String location, String key, String detail) {
        StringBuilder b = new StringBuilder();
        if (location != null && !location.isEmpty()) {
            b.append(oneLine(location)).append(": ");
        }
        if (key != null && !key.isEmpty()) {
            b.append(oneLine(key)).append(": ");
        }
        b.append(oneLine(detail));
        return b.toString();
    }

    static String oneLine(String s) {
        return s == null ? null : s.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
