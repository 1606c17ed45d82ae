package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;

/** The exit codes of {@code knock}: the shared ones ({@link ExitCodes}) and its own, above 9. */
public final class KnockExitCodes {

    /** Sent (and, with --wait, the port opened). */
    public static final int OK = ExitCodes.OK;
    /** --wait or ssh-proxy: the port did not open before the timeout. */
    public static final int TIMED_OUT = 10;
    /** The certificate does not permit the request: a grant, the duration, the server or a declared address. */
    public static final int NOT_PERMITTED = 11;
    /** --require-reply: the knock was sent, but no reply of the server confirmed it. */
    public static final int UNCONFIRMED = 12;

    private KnockExitCodes() {
    }

    /** The codes knock adds to the shared ones, for --help and the man page. */
    static final String HELP = "%nExit codes specific to knock:%n"
            + "   10   --wait or ssh-proxy: the port did not open in time (the knock was sent).%n"
            + "   11   Your certificate does not permit this request%n"
            + "        (a grant, the duration, the server, a declared address).%n"
            + "   12   --require-reply: the knock was sent, but the server did not confirm it.%n"
            + "A knock that was sent exits 0, confirmed or not (with --wait: sent and the port opened).%n";
}
