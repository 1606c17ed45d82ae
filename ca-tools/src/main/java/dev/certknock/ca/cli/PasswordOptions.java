package dev.certknock.ca.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The password options, one small class per password a command may need. */
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

    /** The password of a file this command writes: a PKCS#12 bundle or an encrypted key. */
    static final class Out {
        @Option(names = "--out-password-file", paramLabel = "FILE", description = "Read the password for the file written from FILE.")
        Path file;

        @Option(names = "--out-password-env", paramLabel = "NAME", description = "Read the password for the file written from environment variable NAME.")
        String env;

        char[] read(String what) {
            return PasswordSource.standard().read(what, file, env, "--out-password-file", "--out-password-env", true);
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

    /** The password of a file being read (inspect). */
    static final class In {
        @Option(names = "--password-file", paramLabel = "FILE", description = "Read a PKCS#12 bundle's password from FILE.")
        Path file;

        @Option(names = "--password-env", paramLabel = "NAME", description = "Read a PKCS#12 bundle's password from environment variable NAME.")
        String env;

        char[] read() {
            return PasswordSource.standard().read("bundle", file, env, "--password-file", "--password-env", false);
        }
    }
}
