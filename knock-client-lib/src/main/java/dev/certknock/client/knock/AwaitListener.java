package dev.certknock.client.knock;

import java.time.Duration;

/** Hears how waiting for a port goes, for a progress line. Called on the waiting thread. */
public interface AwaitListener {

    /** A listener that ignores everything. */
    AwaitListener NONE = new AwaitListener() {
    };

    /** A connection attempt failed (refused or timed out); waiting goes on. */
    default void attemptFailed(int attempt, Duration elapsed) {
    }

    /** No answer yet: the knock was sent again ({@code knocksSent} counts the original). */
    default void knockResent(KnockReceipt receipt, int knocksSent, Duration elapsed) {
    }
}
