package dev.certknock.server.replay;

/**
 * What a gateway group's shared replay store answered for one knock ({@link SharedReplay#claim}). Only
 * {@link Claimed} and {@link LocalOnly} let the caller grant.
 */
public sealed interface SharedClaim
        permits SharedClaim.Claimed, SharedClaim.AlreadyClaimed, SharedClaim.Unavailable, SharedClaim.LocalOnly {

    Claimed CLAIMED = new Claimed();
    AlreadyClaimed ALREADY_CLAIMED = new AlreadyClaimed();
    Unavailable UNAVAILABLE = new Unavailable();
    LocalOnly LOCAL_ONLY = new LocalOnly();

    /** This gateway recorded the key first, in the whole group: grant. */
    record Claimed() implements SharedClaim {
    }

    /** Another gateway of the group (or this one, earlier) recorded the key already: a replay. */
    record AlreadyClaimed() implements SharedClaim {
    }

    /** The store did not answer within its deadline, or is not connected: fail closed, drop the knock. */
    record Unavailable() implements SharedClaim {
    }

    /**
     * The store did not answer, but the deployment allows knocks on the local replay state alone during an
     * outage ({@code knock.replayStoreOutage: local-only}): grant, knowing another gateway may grant the same knock.
     */
    record LocalOnly() implements SharedClaim {
    }
}
