package dev.certknock.server.replay;

import java.util.concurrent.CompletableFuture;

/**
 * The replay state a gateway group shares (docs/DESIGN.md D36): asked once per knock, after the local
 * {@link ReplayGuard} committed it, so that a knock granted at one gateway is a replay at every other gateway
 * holding the same knock key. {@link #LOCAL} is a single gateway's: it claims everything.
 */
public interface SharedReplay extends AutoCloseable {

    /** No shared store ({@code knock.replayStore: local}): the local guard is the only replay state. */
    SharedReplay LOCAL = new SharedReplay() {
        @Override
        public SharedClaim claim(ReplayKey key, long ttlMillis) {
            return SharedClaim.CLAIMED;
        }

        @Override
        public String describe() {
            return "local";
        }

        @Override
        public boolean available() {
            return true;
        }

        @Override
        public void close() {
        }
    };

    /**
     * Records {@code key} for {@code ttlMillis} unless some gateway of the group recorded it already, within
     * the store's deadline. Never throws for a store that does not answer: that is {@link SharedClaim.Unavailable}
     * (or {@link SharedClaim.LocalOnly} where allowed).
     */
    SharedClaim claim(ReplayKey key, long ttlMillis);

    /**
     * {@link #claim} without waiting for the answer: the future completes, exactly once and never exceptionally,
     * with what {@link #claim} would have returned, within the store's deadline of this call (docs/DESIGN.md D39).
     * A store that knows the answer at once (not connected, in an outage, {@link #LOCAL}) returns a completed future.
     */
    default CompletableFuture<SharedClaim> claimAsync(ReplayKey key, long ttlMillis) {
        return CompletableFuture.completedFuture(claim(key, ttlMillis));
    }

    /** Where the state is, for logs and status: never holds a password. */
    String describe();

    /** Whether the store answered its last command or probe. */
    boolean available();

    @Override
    void close();
}
