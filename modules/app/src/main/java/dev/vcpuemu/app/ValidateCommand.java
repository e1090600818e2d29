package dev.vcpuemu.app;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.config.SettingsLoader;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code validate TOPOLOGY}: loads and checks a topology without running it, and lists every
 * problem found (one line each, the first {@value #SHOWN}), not only the first.
 */
@Command(name = "validate", description = "Check a topology file without running it; list every problem found.")
final class ValidateCommand implements Callable<Integer> {
    /** Problems printed; the rest are counted. */
    static final int SHOWN = 20;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPOLOGY", description = "HOCON topology file.")
    Path topology;

    @Mixin
    SetOptions setOptions;

    @Override
    public Integer call() {
        SettingsLoader loader = new SettingsLoader();
        List<ConfigProblem> problems = loader.problems(Optional.of(topology), setOptions.sets, Integer.MAX_VALUE);
        if (!problems.isEmpty()) {
            PrintWriter err = spec.commandLine().getErr();
            problems.stream().limit(SHOWN).forEach(p -> err.println(p.getMessage()));
            if (problems.size() > SHOWN) {
                err.println("... and " + (problems.size() - SHOWN) + " more");
            }
            return Main.BAD_INPUT;
        }
        try {
            LoadedSettings loaded = loader.load(Optional.of(topology), setOptions.sets);
            spec.commandLine().getOut().println(loaded.source() + ": valid (" + describe(loaded.settings()) + ")");
            return Main.OK;
        } catch (ConfigProblem p) {
            spec.commandLine().getErr().println(p.getMessage());
            return Main.BAD_INPUT;
        }
    }

    /** A duration as people write it: 50ms, 10s, 2.5h. */
    static String human(java.time.Duration d) {
        long ns = d.toNanos();
        String[] units = {"h", "m", "s", "ms", "us", "ns"};
        long[] sizes = {3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L, 1L};
        for (int i = 0; i < units.length; i++) {
            if (ns >= sizes[i] || i == units.length - 1) {
                double v = ns / (double) sizes[i];
                return (v == Math.rint(v) ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.3g", v))
                        + units[i];
            }
        }
        throw new AssertionError();
    }

    static String describe(Settings s) {
        String vcpus = s.topology().guests() == 1 ? s.topology().vcpus() + " vCPUs"
                : s.topology().guests() + " guests x " + s.topology().vcpus() + " vCPUs";
        return vcpus + ", host " + s.host().era().name().toLowerCase() + ", guest "
                + s.guest().era().name().toLowerCase() + (s.guest().asyncPf() ? "" : " (APF disabled)") + ", "
                + s.nmi().sources().size() + " NMI source(s), seed " + s.run().seed();
    }
}
