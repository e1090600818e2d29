package dev.vcpuemu.app;

import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * {@code vcpu-emu}: the command line (DESIGN §4). Exit codes: 0 the run completed and every
 * expectation held, 1 an expectation failed, 2 bad input, 3 the emulator itself failed, 130 and
 * 143 a run stopped by SIGINT (Ctrl-C) or SIGTERM, its report written ({@link StopOnSignal}).
 *
 * <p>{@code -h}/{@code --help} and {@code -V}/{@code --version} are inherited by every
 * subcommand ({@code scope = INHERIT}); help wins over a missing required option.
 */
@Command(name = "vcpu-emu", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT,
        versionProvider = Main.Version.class,
        description = "Actor-based emulator of x86 vCPUs under KVM asynchronous page faults.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the run completed and every expectation held", "1:an expectation failed",
                "2:bad input (the message names the file, line and key, or the option)",
                "3:the emulator itself failed", "130:stopped by SIGINT (Ctrl-C), report written",
                "143:stopped by SIGTERM, report written"},
        subcommands = {RunCommand.class, ExploreCommand.class, ReplayCommand.class, ValidateCommand.class,
                SoakCommand.class, BenchCommand.class, MatrixCommand.class, CompareCommand.class, NodeCommand.class,
                CommandLine.HelpCommand.class,
                AutoComplete.GenerateCompletion.class})
public final class Main {
    public static final int OK = 0;
    public static final int EXPECTATION_FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int EMULATOR_FAILURE = 3;

    public static void main(String[] args) {
        // SLF4J (logback) set up here, on one thread, before Pekko: else its logger actor logs from a
        // dispatcher thread while the actor system's start initializes SLF4J, and SLF4J replays that
        // call with three warning lines on stderr.
        LoggerFactory.getILoggerFactory();
        System.exit(execute(args));
    }

    static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** The command line with its handlers, so that tests can set its output streams. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("vcpu-emu: emulator failure: " + e);
            e.printStackTrace(cmd.getErr());
            return EMULATOR_FAILURE;
        });
        cli.setParameterExceptionHandler(Main::badArguments);
        return cli;
    }

    /**
     * A bad command line: the one-line problem, picocli's suggestions for a mistyped option or
     * subcommand, and where the help is; exit 2. (picocli's default prints the whole usage,
     * as this does for no arguments at all.)
     */
    private static int badArguments(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        java.io.PrintWriter err = cmd.getErr();
        if (args.length == 0) {
            cmd.usage(err);
            return BAD_INPUT;
        }
        err.println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return BAD_INPUT;
    }

    static String version() {
        String v = BuildInfo.version();
        return v.equals(BuildInfo.UNKNOWN) ? "development" : v;
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
            return new String[] {"vcpu-emu " + version(),
                    "commit " + BuildInfo.commit() + (BuildInfo.modified() ? " (with uncommitted changes)" : ""),
                    "built " + BuildInfo.date(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
