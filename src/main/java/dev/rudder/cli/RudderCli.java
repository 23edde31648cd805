package dev.rudder.cli;

import dev.rudder.errors.RudderException;
import dev.rudder.errors.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;

/** The {@code rudder} command: one subcommand class per verb. Exit codes: 0 ok, 1 bad input, 2 usage. */
@Command(name = "rudder", mixinStandardHelpOptions = true, version = "rudder 0.1.0",
        description = "Run and steer LLaMA-family models from Hugging Face folders, in pure Java.")
public final class RudderCli implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_BAD_INPUT = 1;
    public static final int EXIT_USAGE = 2;

    /** The verbs, in the order help lists them. */
    private static final List<Class<?>> VERBS = List.of(
            GenerateCommand.class,
            ChatCommand.class,
            InspectCommand.class,
            TemplateCommand.class,
            TokenizeCommand.class,
            RandomModelCommand.class,
            BenchCommand.class,
            VectorsCommand.class,
            AlignCommand.class,
            DeltaCommand.class,
            EvalCommand.class,
            QuantizeCommand.class,
            ServeCommand.class,
            CommandLine.HelpCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static void main(String[] args) {
        KernelWarmup.startFor(args); // before option parsing: picocli's cold start is half a second of one core
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int execute(String... args) {
        CommandLine cli = commandLine(args);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            int code = exitCode(ex);
            if (code == EXIT_USAGE) {
                cmd.getErr().println("rudder: " + ex.getMessage());
                cmd.getErr().println("Try 'rudder " + cmd.getCommandName() + " --help' for the options.");
                cmd.getErr().flush();
                return code;
            }
            if (code == EXIT_BAD_INPUT) {
                cmd.getErr().println("rudder: error: " + ex.getMessage());
                cmd.getErr().flush();
                return code;
            }
            throw ex;
        });
        cli.setExitCodeExceptionMapper(ex -> ex instanceof CommandLine.ParameterException ? EXIT_USAGE
                : Math.max(EXIT_BAD_INPUT, exitCode(ex)));
        return cli.execute(args);
    }

    /** The whole command tree, every verb registered. */
    static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * The command tree for {@code args}: when the first argument names a verb (other than help), only that verb
     * is registered. picocli builds each registered verb's model by reflection over its options and mixins and
     * instantiates it, all interpreted in a cold JVM (its classes are too old for the AOT cache): registering
     * the one verb that runs saves about a third of a one-shot command's start-up. Anything else (no verb, a
     * typo, help, options of {@code rudder} itself) gets every verb, so listings and suggestions are complete.
     */
    static CommandLine commandLine(String[] args) {
        CommandLine cli = new CommandLine(new RudderCli());
        Class<?> only = args.length == 0 ? null : verbNamed(args[0]);
        for (Class<?> verb : VERBS) {
            if (only == null || verb == only) {
                cli.addSubcommand(verb);
            }
        }
        return cli;
    }

    private static Class<?> verbNamed(String name) {
        for (Class<?> verb : VERBS) {
            Command c = verb.getAnnotation(Command.class);
            if (verb != CommandLine.HelpCommand.class && (c.name().equals(name) || List.of(c.aliases()).contains(name))) {
                return verb;
            }
        }
        return null;
    }

    /**
     * The exit code for an exception from any module: every module's user-facing exceptions
     * extend {@link RudderException}; a file that is not there is bad input too. Anything else
     * is a bug and keeps its stack trace (-1 here).
     */
    static int exitCode(Throwable ex) {
        if (ex instanceof UsageException) {
            return EXIT_USAGE;
        }
        if (ex instanceof RudderException || ex instanceof java.nio.file.NoSuchFileException) {
            return EXIT_BAD_INPUT;
        }
        return -1;
    }
}
