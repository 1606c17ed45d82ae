package dev.certknock.server.replay;

/**
 * The outcome of {@link ReplayGuard#commit}. Only {@link Committed} lets the caller grant; every other
 * result means drop the knock.
 */
public sealed interface CommitResult
        permits CommitResult.Committed, CommitResult.Replay, CommitResult.Full, CommitResult.OutsideWindow {

    /** True only for {@link Committed}. */
    default boolean accepted() {
        return this instanceof Committed;
    }

    /**
     * The key was recorded (and written to the journal, if there is one): this knock is the one and
     * only acceptance of its key until {@code expiresAtMillis}.
     */
    record Committed(long expiresAtMillis) implements CommitResult {
    }

    /** The key is already recorded and unexpired: a replay. */
    record Replay() implements CommitResult {
    }

    /**
     * The guard holds {@code capacity} unexpired entries even after evicting expired ones. The guard
     * fails closed: the knock must be dropped, since accepting it unrecorded would allow its replay.
     */
    record Full(int capacity) implements CommitResult {
    }

    /**
     * The knock's timestamp is outside the window the guard can vouch for: older than
     * {@code window + margin} (its entry would already have expired, so a replay of it could not be
     * told apart) or further than {@code window + margin} in the future. The pipeline's timestamp stage
     * drops such knocks first; this result covers a knock that waited too long between that stage and
     * the commit.
     */
    record OutsideWindow(long knockTimestampMillis, long nowMillis) implements CommitResult {
    }
}
