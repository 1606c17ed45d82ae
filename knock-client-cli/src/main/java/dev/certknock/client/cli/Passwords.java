package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The bundle password, never from argv. In this order: {@code --password-file}, {@code --password-env}, the
 * target's {@code passwordFile}, a no-echo prompt on the console, a no-echo prompt on the controlling terminal
 * ({@code /dev/tty}: under ssh, whose ProxyCommand has pipes for stdin and stdout). No OS keyring (docs/DESIGN.md
 * D31).
 */
final class Passwords {

    private Passwords() {
    }

    /**
     * @param targetPasswordFile the named target's {@code passwordFile}, or null
     */
    static char[] read(KnockArgs args, CliContext context, Path bundle, Path targetPasswordFile) {
        if (args.passwordFile != null && args.passwordEnv != null) {
            throw new UserException(ExitCodes.USAGE, "give --password-file or --password-env, not both");
        }
        if (args.passwordFile != null) {
            return fromFile(args.passwordFile);
        }
        if (args.passwordEnv != null) {
            String value = context.env().apply(args.passwordEnv);
            if (value == null) {
                throw new UserException(ExitCodes.USAGE, "environment variable " + args.passwordEnv
                        + " (--password-env) is not set");
            }
            return value.toCharArray();
        }
        if (targetPasswordFile != null) {
            return fromFile(targetPasswordFile);
        }
        Console console = context.console().get();
        if (console == null) {
            char[] typed = context.tty() == null ? null
                    : TtyPrompt.read(context.tty(), "Password for " + bundle.getFileName() + ": ");
            if (typed != null) {
                return typed;
            }
            throw new UserException(ExitCodes.USAGE, "no terminal to ask for the password of bundle " + bundle
                    + ": use --password-file FILE or --password-env NAME, or give the target a passwordFile "
                    + "(knock target add --password-file)");
        }
        char[] password = console.readPassword("Password for %s: ", bundle.getFileName());
        if (password == null) {
            throw new UserException(ExitCodes.BAD_CREDENTIALS, "no password given (end of input)");
        }
        return password;
    }

    /** Whether {@link #read} would ask on the terminal (no password file or variable given). */
    static boolean prompts(KnockArgs args, Path targetPasswordFile) {
        return args.passwordFile == null && args.passwordEnv == null && targetPasswordFile == null;
    }

    static char[] fromFile(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserException(ExitCodes.BAD_INPUT, "password file " + file + " does not exist");
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot read password file " + file + ": " + e.getMessage(), e);
        }
        int end = text.indexOf('\n');
        String line = end < 0 ? text : text.substring(0, end);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        return line.toCharArray();
    }
}
