package dev.certknock.client.knock;

import java.time.Duration;

/** Hears how waiting for a port goes, for a progress line. Called on the waiting thread. */
public interface AwaitListener {

    /** A listener that ignores everything. */
    AwaitListener NONE = new AwaitListener() {
    };

    /**
     * A connection attempt failed (refused or timed out); waiting goes on.
     *
     * @param attempt which attempt, from 1
     * @param elapsed time since waiting started
     */
    default void attemptFailed(int attempt, Duration elapsed) {
    }

    /**
     * No answer yet: the knock was sent again.
     *
     * @param receipt the resent knock's receipt
     * @param knocksSent knocks sent in all, the original included
     * @param elapsed time since waiting started
     */
    default void knockResent(KnockReceipt receipt, int knocksSent, Duration elapsed) {
    }
}
