package dev.certknock.ca.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.io.Console;
import java.io.IOException;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Where a password comes from: a file (its first line), a named environment variable, or a prompt on the
 * terminal without echo. Never the command line itself, where other users see it in the process list.
 */
public final class PasswordSource {

    private final Function<String, String> environment;
    private final Console console;

    public PasswordSource(Function<String, String> environment, Console console) {
        this.environment = environment;
        this.console = console;
    }

    /** The process's environment and terminal. */
    public static PasswordSource standard() {
        return new PasswordSource(System::getenv, System.console());
    }

    /**
     * Reads a password.
     *
     * @param what what it is for, for messages and the prompt ("CA key")
     * @param file the {@code --...-password-file} value, or null
     * @param envName the {@code --...-password-env} value, or null
     * @param fileOption the file option's name, for messages
     * @param envOption the environment option's name, for messages
     * @param confirm prompt twice (for a new password)
     */
    public char[] read(String what, Path file, String envName, String fileOption, String envOption, boolean confirm) {
        if (file != null && envName != null) {
            throw new UserException(ExitCodes.USAGE, "give the " + what + " password once: " + fileOption + " or " + envOption + ", not both");
        }
        char[] password;
        if (file != null) {
            password = fromFile(file, what);
        } else if (envName != null) {
            String value = environment.apply(envName);
            if (value == null) {
                throw new UserException(ExitCodes.USAGE, "environment variable " + envName + " (" + envOption
                        + ") is not set: export it with the " + what + " password");
            }
            password = value.toCharArray();
        } else if (console != null) {
            password = console.readPassword("%s password: ", what);
            if (password == null) {
                throw new UserException(ExitCodes.USAGE, "no " + what + " password entered");
            }
            if (confirm) {
                char[] again = console.readPassword("%s password again: ", what);
                if (!Arrays.equals(password, again)) {
                    throw new UserException(ExitCodes.USAGE, "the two " + what + " passwords differ: run the command again");
                }
            }
        } else {
            throw new UserException(ExitCodes.USAGE, "no " + what + " password and no terminal to ask on: give "
                    + fileOption + " FILE or " + envOption + " NAME");
        }
        if (password.length == 0) {
            throw new UserException(ExitCodes.BAD_INPUT, "the " + what + " password is empty");
        }
        return password;
    }

    private static char[] fromFile(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserException(ExitCodes.BAD_INPUT, "the " + what + " password file " + file + " does not exist");
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot read the " + what + " password file " + file + ": " + e);
        }
        CharBuffer chars = StandardCharsets.UTF_8.decode(java.nio.ByteBuffer.wrap(bytes));
        Arrays.fill(bytes, (byte) 0);
        int end = 0;
        while (end < chars.limit() && chars.get(end) != '\n' && chars.get(end) != '\r') {
            end++;
        }
        char[] password = new char[end];
        chars.get(password, 0, end);
        Arrays.fill(chars.array(), '\0');
        return password;
    }
}
