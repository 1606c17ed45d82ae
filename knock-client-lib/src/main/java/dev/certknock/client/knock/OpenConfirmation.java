package dev.certknock.client.knock;

import java.time.Duration;
import java.util.Objects;

/**
 * What {@link KnockClient#awaitOpen} found.
 *
 * @param opened true when the TCP port accepted a connection before the timeout
 * @param elapsed time from the start of waiting until it accepted, or until giving up
 * @param attempts TCP connection attempts made
 * @param knocksSent knocks sent in all, the original included (resends seal new knocks)
 */
public record OpenConfirmation(boolean opened, Duration elapsed, int attempts, int knocksSent) {

    public OpenConfirmation {
        Objects.requireNonNull(elapsed, "elapsed");
    }
}
