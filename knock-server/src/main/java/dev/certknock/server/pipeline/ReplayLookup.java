package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.ReplayKey;

/**
 * An O(1) look-up of (certificate, nonce) before the expensive checks; nothing is recorded here, so
 * junk cannot fill the cache. {@link ReplayCommit} records the key after full authentication. A copy of a v2
 * knock already refused from this very source address ({@link RefusedAddresses}) is a replay too.
 */
public final class ReplayLookup implements Stage {

    private final ReplayGuard guard;
    private final RefusedAddresses refused;

    public ReplayLookup(ReplayGuard guard) {
        this(guard, new RefusedAddresses());
    }

    public ReplayLookup(ReplayGuard guard, RefusedAddresses refused) {
        this.guard = guard;
        this.refused = refused;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        ReplayKey key = ReplayKey.of(ctx.leafFingerprint, ctx.unverified.claimedContent().nonce());
        if (guard.seen(key)) {
            return Outcome.drop(DropReason.REPLAY, "knock already used");
        }
        if (refused.contains(ctx.leafFingerprint, ctx.unverified.claimedContent().nonce().toByteArray(), ctx.source())) {
            return Outcome.drop(DropReason.REPLAY, "knock already refused from this address");
        }
        return Outcome.CONTINUE;
    }
}
