package dev.certknock.ca.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The password options, one small class per password a command may need. One scheme across the subcommands: the
 * option names the file whose password it is, {@code --ca-password-*} (the CA key), {@code --parent-password-*}
 * (the parent CA's key), {@code --bundle-password-*} (a PKCS#12 bundle, written or read) and
 * {@code --key-password-*} (an encrypted private key file, written or read); each as {@code -file FILE} (its first
 * line) or {@code -env NAME}, else a prompt without echo. The names of earlier versions ({@code --out-password-*},
 * and inspect's {@code --password-*}) still work, hidden, with a one-line warning on standard error.
 */
final class PasswordOptions {

    private PasswordOptions() {
    }

    /** The CA key's password. */
    static final class Ca {
        @Option(names = "--ca-password-file", paramLabel = "FILE", description = "Read the CA key password from the first line of FILE.")
        Path file;

        @Option(names = "--ca-password-env", paramLabel = "NAME", description = "Read the CA key password from environment variable NAME.")
        String env;

        char[] read(boolean confirm) {
            return PasswordSource.standard().read("CA key", file, env, "--ca-password-file", "--ca-password-env", confirm);
        }
    }

    /** The password of the parent CA's key (intermediate CA creation). */
    static final class Parent {
        @Option(names = "--parent-password-file", paramLabel = "FILE", description = "Read the parent CA key password from FILE.")
        Path file;

        @Option(names = "--parent-password-env", paramLabel = "NAME", description = "Read the parent CA key password from environment variable NAME.")
        String env;

        char[] read() {
            return PasswordSource.standard().read("parent CA key", file, env, "--parent-password-file", "--parent-password-env", false);
        }
    }

    /** The password of a PKCS#12 bundle this command writes. */
    static final class Out {
        @Spec
        CommandSpec spec;

        @Option(names = "--bundle-password-file", paramLabel = "FILE", description = "Read the new bundle's password from FILE.")
        Path file;

        @Option(names = "--bundle-password-env", paramLabel = "NAME", description = "Read the new bundle's password from environment variable NAME.")
        String env;

        @Option(names = "--out-password-file", hidden = true, paramLabel = "FILE")
        Path oldFile;

        @Option(names = "--out-password-env", hidden = true, paramLabel = "NAME")
        String oldEnv;

        char[] read(String what) {
            return PasswordOptions.read(spec, what, file, env, oldFile, oldEnv, "--bundle-password-file", "--bundle-password-env",
                    "--out-password-file", "--out-password-env", true);
        }
    }

    /** The password of an encrypted private key this command writes (csr). */
    static final class NewKey {
        @Spec
        CommandSpec spec;

        @Option(names = "--key-password-file", paramLabel = "FILE", description = "Read the new key's password from FILE.")
        Path file;

        @Option(names = "--key-password-env", paramLabel = "NAME", description = "Read the new key's password from environment variable NAME.")
        String env;

        @Option(names = "--out-password-file", hidden = true, paramLabel = "FILE")
        Path oldFile;

        @Option(names = "--out-password-env", hidden = true, paramLabel = "NAME")
        String oldEnv;

        char[] read(String what) {
            return PasswordOptions.read(spec, what, file, env, oldFile, oldEnv, "--key-password-file", "--key-password-env",
                    "--out-password-file", "--out-password-env", true);
        }
    }

    /** The password of an existing encrypted key. */
    static final class Key {
        @Option(names = "--key-password-file", paramLabel = "FILE", description = "Read the key's password from FILE.")
        Path file;

        @Option(names = "--key-password-env", paramLabel = "NAME", description = "Read the key's password from environment variable NAME.")
        String env;

        char[] read() {
            return PasswordSource.standard().read("client key", file, env, "--key-password-file", "--key-password-env", false);
        }
    }

    /** The password of a bundle being read (inspect). */
    static final class In {
        @Spec
        CommandSpec spec;

        @Option(names = "--bundle-password-file", paramLabel = "FILE", description = "Read a PKCS#12 bundle's password from FILE.")
        Path file;

        @Option(names = "--bundle-password-env", paramLabel = "NAME", description = "Read a PKCS#12 bundle's password from environment variable NAME.")
        String env;

        @Option(names = "--password-file", hidden = true, paramLabel = "FILE")
        Path oldFile;

        @Option(names = "--password-env", hidden = true, paramLabel = "NAME")
        String oldEnv;

        char[] read() {
            return PasswordOptions.read(spec, "bundle", file, env, oldFile, oldEnv, "--bundle-password-file", "--bundle-password-env",
                    "--password-file", "--password-env", false);
        }
    }

    /** Reads a password whose options have an old name as well: the old one warns, and each may be given once. */
    private static char[] read(CommandSpec spec, String what, Path file, String env, Path oldFile, String oldEnv,
            String fileOption, String envOption, String oldFileOption, String oldEnvOption, boolean confirm) {
        if (oldFile != null) {
            warn(spec, oldFileOption, fileOption);
        }
        if (oldEnv != null) {
            warn(spec, oldEnvOption, envOption);
        }
        if ((file != null && oldFile != null) || (env != null && oldEnv != null)) {
            throw new dev.certknock.cli.UserException(dev.certknock.cli.ExitCodes.USAGE, "give the " + what + " password once: "
                    + fileOption + " or " + envOption + " (" + oldFileOption + " and " + oldEnvOption + " are their old names)");
        }
        return PasswordSource.standard().read(what, file != null ? file : oldFile, env != null ? env : oldEnv,
                fileOption, envOption, confirm);
    }

    private static void warn(CommandSpec spec, String old, String replacement) {
        PrintWriter err = spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
        err.printf("knock-ca: warning: %s is deprecated, use %s (the old name will go)%n", old, replacement);
        err.flush();
    }
}
