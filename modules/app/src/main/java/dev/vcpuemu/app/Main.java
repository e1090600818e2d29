package dev.vcpuemu.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * {@code vcpu-emu}: the command line (DESIGN §4). Exit codes: 0 the run completed and every
 * expectation held, 1 an expectation failed, 2 bad input, 3 the emulator itself failed.
 */
@Command(name = "vcpu-emu", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Actor-based emulator of x86 vCPUs under KVM asynchronous page faults.",
        subcommands = {RunCommand.class, ExploreCommand.class, ReplayCommand.class, ValidateCommand.class,
                SoakCommand.class, BenchCommand.class, MatrixCommand.class, CompareCommand.class})
public final class Main {
    public static final int OK = 0;
    public static final int EXPECTATION_FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int EMULATOR_FAILURE = 3;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("vcpu-emu: emulator failure: " + e);
            e.printStackTrace(cmd.getErr());
            return EMULATOR_FAILURE;
        });
        return cli.execute(args);
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    /** How this program was started, for printed commands: {@code java -jar PATH} when run from the jar. */
    static String invocation() {
        try {
            Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (jar.toString().endsWith(".jar")) {
                Path cwd = Path.of("").toAbsolutePath();
                Path shown = jar.startsWith(cwd) ? cwd.relativize(jar) : jar;
                return "java -jar " + ExploreCommand.quote(shown.toString());
            }
        } catch (URISyntaxException | RuntimeException e) {
            // Fall through to the plain name.
        }
        return "vcpu-emu";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"vcpu-emu " + version()};
        }
    }
}
