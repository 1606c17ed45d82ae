package dev.certknock.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Runs a picocli command against given output streams: the one entry point of every certknock tool, in
 * {@code main} and in tests ({@code run(out, err, args)}). Maps exceptions to exit codes in one place:
 * {@link UserException} prints its message alone; anything else is an internal error.
 */
public final class CommandRunner {

    private CommandRunner() {
    }

    public static int run(Object command, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(command);
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
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodeMap());
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
