package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.replay.CommitResult;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.ReplayKey;

/**
 * Records (certificate, nonce) atomically, after every other check passed and just before the grant:
 * of two copies of one knock racing through the pipeline, exactly one gets here first. Fails closed when
 * the cache is full.
 */
public final class ReplayCommit implements Stage {

    private final ReplayGuard guard;

    public ReplayCommit(ReplayGuard guard) {
        this.guard = guard;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        var content = ctx.verified.content();
        CommitResult r = guard.commit(ReplayKey.of(ctx.leafFingerprint, content.nonce()), content.timestampMillis());
        if (r instanceof CommitResult.Committed) {
            return Outcome.CONTINUE;
        }
        if (r instanceof CommitResult.Full) {
            return Outcome.drop(DropReason.REPLAY_CACHE_FULL, "replay cache full: failing closed");
        }
        if (r instanceof CommitResult.OutsideWindow) {
            return Outcome.drop(DropReason.TIMESTAMP_TOO_OLD, "timestamp left the window");
        }
        return Outcome.drop(DropReason.REPLAY, "knock already used");
    }
}
