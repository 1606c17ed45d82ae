package dev.certknock.server.pipeline;

import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.ReplayKey;

/**
 * An O(1) look-up of (certificate, nonce) before the expensive checks; nothing is recorded here, so
 * junk cannot fill the cache. {@link ReplayCommit} records the key after full authentication.
 */
public final class ReplayLookup implements Stage {

    private final ReplayGuard guard;

    public ReplayLookup(ReplayGuard guard) {
        this.guard = guard;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        ReplayKey key = ReplayKey.of(ctx.leafFingerprint, ctx.unverified.claimedContent().nonce());
        return guard.seen(key) ? Outcome.drop(DropReason.REPLAY, "knock already used") : Outcome.CONTINUE;
    }
}
