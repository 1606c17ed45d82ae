package dev.certknock.client.knock;

import java.time.Duration;
import java.util.Objects;

/**
 * What {@link KnockClient#awaitOpen} found: the port opened, the time ran out, or the waiting thread was
 * interrupted (its interrupt flag is set again on return).
 *
 * @param status how waiting ended
 * @param elapsed time from the start of waiting until the port accepted, or until giving up
 * @param attempts TCP connection attempts made
 * @param knocksSent knocks sent in all, the original included (resends seal new knocks)
 */
public record OpenConfirmation(Status status, Duration elapsed, int attempts, int knocksSent) {

    /** How waiting for the port ended. */
    public enum Status {
        /** The TCP port accepted a connection before the timeout. */
        OPENED,
        /** The timeout passed and the port never accepted a connection. */
        TIMED_OUT,
        /**
         * The waiting thread was interrupted (or the {@link KnockClient#awaitOpenAsync awaitOpenAsync} future
         * cancelled) before the port opened or the time ran out; the thread's interrupt flag is set again.
         */
        INTERRUPTED
    }

    /**
     * Checks the components.
     *
     * @param status how waiting ended
     * @param elapsed time spent waiting
     * @param attempts TCP connection attempts made
     * @param knocksSent knocks sent in all
     */
    public OpenConfirmation {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(elapsed, "elapsed");
    }

    /**
     * Whether the port opened.
     *
     * @return true when the TCP port accepted a connection before the timeout
     */
    public boolean opened() {
        return status == Status.OPENED;
    }

    /**
     * Whether waiting was cut short by an interrupt, which is not a timeout.
     *
     * @return true when the waiting thread was interrupted
     */
    public boolean interrupted() {
        return status == Status.INTERRUPTED;
    }
}
