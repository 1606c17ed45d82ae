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
 * @param maxEntries           most address and port-range pairs open at once
 * @param retryDelay           after a close command failed, when it is tried again (until it succeeds)
 * @param closeOnStop          run the close command for every open grant when the server stops (otherwise they
 *                             stay open and are closed on time by the next start, or at once if already expired)
 * @param rerunOpenOnRefresh   run the open command again when a grant that is already open is knocked again
 *                             (only for targets whose open command is itself idempotent and carries its own
 *                             timeout from {@code {seconds}}); by default a repeated knock only moves the close
 */
public record CommandSettings(CommandTemplate open, CommandTemplate close, Duration commandTimeout, Path stateFile,
        int maxEntries, Duration retryDelay, boolean closeOnStop, boolean rerunOpenOnRefresh) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RETRY = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_ENTRIES = 10_000;

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
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be at least 1, not " + maxEntries);
        }
    }

    /** The two templates and the state file, with a 10 s timeout, 10 000 entries, retry after 30 s. */
    public static CommandSettings of(CommandTemplate open, CommandTemplate close, Path stateFile) {
        return new CommandSettings(open, close, DEFAULT_TIMEOUT, stateFile, DEFAULT_MAX_ENTRIES, DEFAULT_RETRY, false,
                false);
    }

    public CommandSettings withCommandTimeout(Duration timeout) {
        return new CommandSettings(open, close, timeout, stateFile, maxEntries, retryDelay, closeOnStop,
                rerunOpenOnRefresh);
    }

    public CommandSettings withMaxEntries(int max) {
        return new CommandSettings(open, close, commandTimeout, stateFile, max, retryDelay, closeOnStop,
                rerunOpenOnRefresh);
    }

    public CommandSettings withRetryDelay(Duration delay) {
        return new CommandSettings(open, close, commandTimeout, stateFile, maxEntries, delay, closeOnStop,
                rerunOpenOnRefresh);
    }

    public CommandSettings withCloseOnStop(boolean value) {
        return new CommandSettings(open, close, commandTimeout, stateFile, maxEntries, retryDelay, value,
                rerunOpenOnRefresh);
    }

    public CommandSettings withRerunOpenOnRefresh(boolean value) {
        return new CommandSettings(open, close, commandTimeout, stateFile, maxEntries, retryDelay, closeOnStop, value);
    }
}
