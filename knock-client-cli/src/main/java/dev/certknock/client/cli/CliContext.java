package dev.certknock.client.cli;

import java.io.Console;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the commands take from the process, so that tests can supply it: environment variables, the raw stdin and
 * stdout (for the ssh proxy's byte relay), the console (for the password prompt), the controlling terminal (the
 * prompt when stdin and stdout are not a terminal, as under ssh) and the home directory.
 *
 * @param env looks up an environment variable; null when unset
 * @param stdin raw standard input
 * @param stdout raw standard output (the ssh proxy's channel; text output goes through picocli's writer)
 * @param console the terminal, or null when there is none
 * @param home the user's home directory
 * @param tty the controlling terminal's device ({@code /dev/tty}), or null: never prompt on one
 */
public record CliContext(Function<String, String> env, InputStream stdin, OutputStream stdout,
        Supplier<Console> console, Path home, Path tty) {

    public CliContext {
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(stdin, "stdin");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(console, "console");
        Objects.requireNonNull(home, "home");
    }

    /**
     * The real process: System.getenv, System.in/out, System.console(), /dev/tty, and the home directory $HOME
     * names (an absolute path; else Java's user.home, which comes from the password database, not from $HOME).
     */
    public static CliContext system() {
        return new CliContext(System::getenv, System.in, System.out, System::console,
                home(System::getenv, Path.of(System.getProperty("user.home"))), Path.of("/dev/tty"));
    }

    /** A context for tests: these variables, these streams, no console, no terminal. */
    public static CliContext of(Map<String, String> env, InputStream stdin, OutputStream stdout, Path home) {
        Map<String, String> copy = Map.copyOf(env);
        return new CliContext(copy::get, stdin, stdout, () -> null, home, null);
    }

    /** $HOME when it is an absolute path, else {@code fallback}. */
    static Path home(Function<String, String> env, Path fallback) {
        String home = env.apply("HOME");
        return home != null && !home.isBlank() && Path.of(home).isAbsolute() ? Path.of(home) : fallback;
    }
}
