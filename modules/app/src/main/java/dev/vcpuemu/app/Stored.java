package dev.vcpuemu.app;

import com.typesafe.config.ConfigRenderOptions;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.app.store.RunStore;
import dev.vcpuemu.app.store.StoredRun;
import dev.vcpuemu.model.settings.Settings;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * The commands' side of the results store ({@link RunStore}): a run directory opened, once the
 * input is known good, for a command given no explicit output; files kept in it; the end recorded.
 */
final class Stored {
    private Stored() {
    }

    /**
     * For {@code run} and {@code replay}: a new run directory when {@code run.report} names a
     * store (the default {@code "runs/"}), null when it names a file or none.
     */
    static StoredRun openForReport(CommandSpec spec, String command, String engine, LoadedSettings loaded,
                                   PrintWriter err) throws Conclusion.BadInput {
        String report = loaded.settings().run().report();
        return RunStore.isStore(report) ? open(spec, command, engine, loaded, Path.of(report), err) : null;
    }

    /** A new run directory in the store at {@code root}; if it cannot be made, bad input (printed and thrown). */
    static StoredRun open(CommandSpec spec, String command, String engine, LoadedSettings loaded, Path root,
                          PrintWriter err) throws Conclusion.BadInput {
        Settings s = loaded.settings();
        String config = "# The resolved configuration of this run (every key); `run` takes it as a topology file.\n"
                + loaded.config().withOnlyPath("vcpu-emu").root().render(ConfigRenderOptions.defaults()
                .setOriginComments(false).setComments(false).setJson(false));
        try {
            return new RunStore(root).start(new RunStore.RunInfo(command, loaded.source(), engine, s.run().seed(),
                    s.host().era().name().toLowerCase(), s.guest().era().name().toLowerCase(), commandLine(spec), config));
        } catch (IOException e) {
            err.println(root + ": cannot make a run directory in the results store: " + e.getMessage());
            throw new Conclusion.BadInput();
        }
    }

    /** The command line as typed, quoted for a POSIX shell. */
    static String commandLine(CommandSpec spec) {
        return Main.invocation() + " " + spec.commandLine().getParseResult().originalArgs().stream()
                .map(ExploreCommand::quote).collect(Collectors.joining(" "));
    }

    /** Keeps an explicitly named output file in the run directory too (when there is one). */
    static void keep(StoredRun run, Path file, String name, PrintWriter err) {
        if (run == null || file == null) {
            return;
        }
        try {
            run.keep(file, name);
        } catch (IOException e) {
            err.println("vcpu-emu: cannot keep " + file + " in " + run.dir() + ": " + e.getMessage());
        }
    }

    /** Records the exit code in the run directory and rebuilds the index (when there is one); returns {@code code}. */
    static int finish(StoredRun run, int code, PrintWriter err) {
        if (run != null) {
            try {
                run.finish(code);
            } catch (IOException e) {
                err.println("vcpu-emu: cannot update the results store in " + run.dir().getParent() + ": " + e.getMessage());
            }
        }
        err.flush();
        return code;
    }
}
