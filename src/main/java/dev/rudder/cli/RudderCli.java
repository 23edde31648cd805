package dev.rudder.cli;

import dev.rudder.runtime.BadInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rudder} command: one subcommand class per verb. Exit codes: 0 ok, 1 bad input, 2 usage. */
@Command(name = "rudder", mixinStandardHelpOptions = true, version = "rudder 0.1.0",
        description = "Run and steer LLaMA-family models from Hugging Face folders, in pure Java.",
        subcommands = {
                GenerateCommand.class,
                ChatCommand.class,
                InspectCommand.class,
                TemplateCommand.class,
                TokenizeCommand.class,
                RandomModelCommand.class,
                VectorsCommand.class,
                AlignCommand.class,
                DeltaCommand.class,
                EvalCommand.class,
                QuantizeCommand.class,
                CommandLine.HelpCommand.class
        })
public final class RudderCli implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_BAD_INPUT = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new RudderCli());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (isBadInput(ex)) {
                cmd.getErr().println("rudder: error: " + ex.getMessage());
                cmd.getErr().flush();
                return EXIT_BAD_INPUT;
            }
            throw ex;
        });
        cli.setExitCodeExceptionMapper(ex -> ex instanceof CommandLine.ParameterException ? EXIT_USAGE
                : isBadInput(ex) ? EXIT_BAD_INPUT : 1);
        return cli.execute(args);
    }

    /** Bad input from any module: runtime, tokenizer or steering exceptions meant for the user. */
    static boolean isBadInput(Throwable ex) {
        return ex instanceof BadInputException
                || ex instanceof java.nio.file.NoSuchFileException
                || ex.getClass().getSimpleName().endsWith("TokenizerException")
                || ex.getClass().getSimpleName().endsWith("TemplateException");
    }
}
