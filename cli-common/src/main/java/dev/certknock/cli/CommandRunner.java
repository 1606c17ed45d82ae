package dev.certknock.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Runs a picocli command against given output streams: the one entry point of every certknock tool, in
 * {@code main} and in tests ({@code run(out, err, args)}). Maps exceptions to exit codes in one place:
 * {@link UserException} prints its message alone; anything else is an internal error.
 */
public final class CommandRunner {

    private CommandRunner() {
    }

    public static int run(Object command, PrintWriter out, PrintWriter err, String... args) {
        return execute(configure(new CommandLine(command), out, err), out, err, args);
    }

    /**
     * Runs a command whose subcommands are registered only when this command line may need them (DESIGN.md D35):
     * building picocli's model of a subcommand (annotation reflection over every option) is a good part of a
     * short-lived tool's start, and a knock names no subcommand. The lean model, without {@code subcommands},
     * parses first; the full one ({@code command} again, with every class of {@code subcommands} added in order)
     * runs instead whenever the result could differ: an argument that names a subcommand (or an alias) or is an
     * {@code @file}, no arguments or no positional parameter (but {@code --version}; without a positional a
     * command may print its usage, which lists the subcommands), a help request, or any parse error (its message and usage come from the full model). Parsing runs nothing, so
     * parsing twice changes nothing but the time.
     *
     * @param command makes a new instance of the top-level command (each model gets its own)
     * @param subcommands the {@code @Command} classes to register, in the order the usage lists them
     */
    public static int run(Supplier<?> command, List<Class<?>> subcommands, PrintWriter out, PrintWriter err,
            String... args) {
        return run(command, c -> new CommandLine(c).getCommandSpec(), subcommands, subcommandNames(subcommands), out,
                err, args);
    }

    /**
     * As {@link #run(Supplier, List, PrintWriter, PrintWriter, String...)}, with the lean model made by
     * {@code leanModel} from a new instance of the command instead of read from its annotations (DESIGN.md D42): a
     * model built through picocli's programmatic API that parses exactly as the annotated one, without its cost. The
     * lean model never prints usage help or a parse error (those come from the full annotated model), so it needs
     * only what parsing needs; it does print {@code --version}, and the messages of the command's own failures.
     *
     * @param leanModel makes the lean model of a new command instance (binds its options to that instance); it may
     *                  hold subcommands of its own, built the same way, which then run from it too
     * @param subcommandNames every name and alias of {@code subcommands} that the lean model does not hold: an
     *                        argument equal to one runs the full model. Given, so that a run reads no annotation;
     *                        the caller's tests compare them with {@link #subcommandNames(List)}
     */
    public static <T> int run(Supplier<T> command, Function<? super T, CommandSpec> leanModel,
            List<Class<?>> subcommands, Set<String> subcommandNames, PrintWriter out, PrintWriter err, String... args) {
        if (subcommands.isEmpty() || namesSubcommand(subcommandNames, args)) {
            return execute(full(command, subcommands, out, err), out, err, args);
        }
        CommandLine lean = configureRun(new CommandLine(leanModel.apply(command.get())), out, err);
        boolean[] needsFull = new boolean[1];
        lean.setExecutionStrategy(parsed -> {
            if (needsFullModel(parsed)) {
                needsFull[0] = true;
                return ExitCodes.OK;
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        lean.setParameterExceptionHandler((ex, a) -> {
            needsFull[0] = true;
            return ExitCodes.USAGE;
        });
        int code = execute(lean, out, err, args);
        return needsFull[0] ? execute(full(command, subcommands, out, err), out, err, args) : code;
    }

    /**
     * Whether a lean parse must be run by the full model instead: a help request anywhere, a version request with a
     * subcommand, and, without a subcommand, no positional parameter but for {@code --version}.
     */
    static boolean needsFullModel(CommandLine.ParseResult parsed) {
        if (parsed.isUsageHelpRequested()) {
            return true;
        }
        if (!parsed.hasSubcommand()) {
            return parsed.matchedPositionals().isEmpty() && !parsed.isVersionHelpRequested();
        }
        if (parsed.isVersionHelpRequested()) {
            return true;
        }
        for (CommandLine.ParseResult sub = parsed.subcommand(); sub != null;
                sub = sub.hasSubcommand() ? sub.subcommand() : null) {
            if (sub.isUsageHelpRequested() || sub.isVersionHelpRequested()) {
                return true;
            }
        }
        return false;
    }

    private static CommandLine full(Supplier<?> command, List<Class<?>> subcommands, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(command.get());
        for (Class<?> sub : subcommands) {
            cl.addSubcommand(sub);
        }
        return configure(cl, out, err);
    }

    /** Every name and alias that the {@code @Command} annotations of {@code subcommands} give. */
    public static Set<String> subcommandNames(List<Class<?>> subcommands) {
        Set<String> names = new HashSet<>();
        for (Class<?> sub : subcommands) {
            CommandLine.Command c = sub.getAnnotation(CommandLine.Command.class);
            if (c == null) {
                throw new IllegalArgumentException(sub + " has no @Command annotation");
            }
            names.add(c.name());
            names.addAll(Arrays.asList(c.aliases()));
        }
        return names;
    }

    /** Whether an argument could be a subcommand's name (or an @file, which could hold one). */
    static boolean namesSubcommand(Set<String> names, String... args) {
        if (args.length == 0) {
            return true;
        }
        for (String arg : args) {
            if (arg.startsWith("@") || names.contains(arg)) {
                return true;
            }
        }
        return false;
    }

    private static CommandLine configure(CommandLine cl, PrintWriter out, PrintWriter err) {
        configureRun(cl, out, err);
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodeMap());
        HelpLayout.apply(cl);
        return cl;
    }

    /** Streams, exit codes and failure messages: all a model needs that prints no usage help. */
    private static CommandLine configureRun(CommandLine cl, PrintWriter out, PrintWriter err) {
        cl.setOut(out);
        cl.setErr(err);
        cl.setExitCodeExceptionMapper(CommandRunner::exitCodeOf);
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            if (ex instanceof UserException u) {
                line.getErr().println(line.getColorScheme().errorText(line.getCommandName() + ": " + u.getMessage()));
            } else {
                line.getErr().println(line.getColorScheme().errorText(line.getCommandName()
                        + ": internal error: " + ex + " (please report this with the command you ran)"));
            }
            line.getErr().flush();
            return exitCodeOf(ex);
        });
        return cl;
    }

    private static int execute(CommandLine cl, PrintWriter out, PrintWriter err, String... args) {
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Runs the command on the process's streams and exits with its code. */
    public static void main(Object command, String... args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(run(command, out, err, args));
    }

    static int exitCodeOf(Throwable t) {
        if (t instanceof UserException u) {
            return u.exitCode();
        }
        if (t instanceof CommandLine.ParameterException) {
            return ExitCodes.USAGE;
        }
        return ExitCodes.INTERNAL_ERROR;
    }

    private static java.util.Map<String, String> exitCodeMap() {
        java.util.Map<String, String> map = new java.util.LinkedHashMap<>();
        for (String line : ExitCodes.helpSection()) {
            int colon = line.indexOf(':');
            map.put(String.format("%3s", line.substring(0, colon)), line.substring(colon + 1));
        }
        return map;
    }
}
