package dev.certknock.cli;

/**
 * Exit codes shared by knock-ca, knock and knock-server. Each tool documents which it uses in its
 * {@code --help} and man page; codes above 9 are tool-specific.
 */
public final class ExitCodes {

    /** Done. */
    public static final int OK = 0;
    /** Failed for a reason the message explains (I/O, a refused operation). */
    public static final int FAILURE = 1;
    /** The command line is wrong: unknown option, missing argument. */
    public static final int USAGE = 2;
    /** An input file or value is invalid: a malformed certificate, a bad configuration. */
    public static final int BAD_INPUT = 3;
    /** Credentials could not be used: wrong password, unreadable key. */
    public static final int BAD_CREDENTIALS = 4;
    /** A bug: an unexpected exception (the message asks for a report). */
    public static final int INTERNAL_ERROR = 70;

    private ExitCodes() {
    }

    /** The exit-code section for a command's usage help. */
    public static String[] helpSection() {
        return new String[] {
            "0:Success.",
            "1:Failed; the message says why.",
            "2:Invalid command line.",
            "3:Invalid input file or value.",
            "4:Credentials unusable (wrong password, unreadable key).",
            "70:Internal error (please report it)."
        };
    }
}
