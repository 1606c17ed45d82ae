package dev.certknock.server.status;

import java.nio.file.Path;

/** What asking the status socket gave. */
public sealed interface StatusResult {

    /** The server answered: the report, and the JSON as it sent it. */
    record Answered(StatusReport report, String json) implements StatusResult {
    }

    /** No server answers there: no socket, or a stale one (connection refused). */
    record NotRunning(Path socket, String why) implements StatusResult {
    }

    /** The socket is there but could not be asked or did not answer properly (permissions, timeout, bad answer). */
    record Failed(Path socket, String why) implements StatusResult {
    }
}
