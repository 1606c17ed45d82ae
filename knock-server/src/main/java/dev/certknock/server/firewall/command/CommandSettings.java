package dev.certknock.server.firewall.command;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the {@code command} backend.
 *
 * @param open                 run once per address and port range when a grant opens
 * @param close                run once per address and port range when it expires, is revoked, or (with
 *                             {@code closeOnStop}) when the server stops; it must succeed when there is nothing
 *                             to close (it may run again after a crash, or after an open that failed)
 * @param commandTimeout       how long one command may run before it is killed and counted as failed
 * @param stateFile            where open grants are recorded, so that a restart closes the ones that expired
 *                             meanwhile and reschedules the others
 * @param retryDelay           after a close command failed, when it is tried again (until it succeeds)
 * @param rerunOpenOnRefresh   run the open command again when a grant that is already open is knocked again
 *                             (only for targets whose open command is itself idempotent and carries its own
 *                             timeout from {@code {seconds}}); by default a repeated knock only moves the close
 */
public record CommandSettings(CommandTemplate open, CommandTemplate close, Duration commandTimeout, Path stateFile,
        Duration retryDelay, boolean rerunOpenOnRefresh) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RETRY = Duration.ofSeconds(30);

    public CommandSettings {
        Objects.requireNonNull(open, "open");
        Objects.requireNonNull(close, "close");
        Objects.requireNonNull(stateFile, "stateFile");
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("the command timeout must be positive, not " + commandTimeout);
        }
        if (retryDelay.isNegative() || retryDelay.isZero()) {
            throw new IllegalArgumentException("the close retry delay must be positive, not " + retryDelay);
        }
    }

    /** The two templates and the state file, with a 10 s timeout, retry after 30 s. */
    public static CommandSettings of(CommandTemplate open, CommandTemplate close, Path stateFile) {
        return new CommandSettings(open, close, DEFAULT_TIMEOUT, stateFile, DEFAULT_RETRY, false);
    }

    public CommandSettings withCommandTimeout(Duration timeout) {
        return new CommandSettings(open, close, timeout, stateFile, retryDelay, rerunOpenOnRefresh);
    }

    public CommandSettings withRetryDelay(Duration delay) {
        return new CommandSettings(open, close, commandTimeout, stateFile, delay, rerunOpenOnRefresh);
    }

    public CommandSettings withRerunOpenOnRefresh(boolean value) {
        return new CommandSettings(open, close, commandTimeout, stateFile, retryDelay, value);
    }
}
