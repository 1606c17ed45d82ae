package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.replay.CommitResult;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.ReplayKey;
import dev.certknock.server.replay.SharedClaim;
import dev.certknock.server.replay.SharedReplay;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Records (certificate, nonce) atomically, after every other check passed and just before the grant:
 * of two copies of one knock racing through the pipeline, exactly one gets here first. Fails closed when
 * the cache is full.
 *
 * <p>In a gateway group ({@code knock.replayStore}, docs/DESIGN.md D36) the key is then claimed in the shared
 * store too, so that of two gateways receiving the same knock exactly one grants. The local commit comes first: a
 * replay this gateway knows is answered without a round trip. The shared entry lives as long as the local one plus
 * one more timestamp window, so gateways whose clocks differ by up to a window still see it. A store that does not
 * answer fails the knock closed ({@link DropReason#REPLAY_STORE_UNAVAILABLE}) unless the deployment allows
 * local-only grants during an outage.
 *
 * <p>The claim does not hold the worker (docs/DESIGN.md D39): the stage answers {@link Outcome.Pending} with the
 * store's answer to come, and the pipeline goes on to the grant only when it came and was a claim. A store that
 * answers at once (not connected, in an outage) is decided here without a hand-over.
 */
public final class ReplayCommit implements Stage {

    private final ReplayGuard guard;
    private final SharedReplay shared;
    private final Clock clock;

    public ReplayCommit(ReplayGuard guard) {
        this(guard, SharedReplay.LOCAL, Clock.systemUTC());
    }

    public ReplayCommit(ReplayGuard guard, SharedReplay shared, Clock clock) {
        this.guard = guard;
        this.shared = Objects.requireNonNull(shared, "shared");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        var content = ctx.verified.content();
        ReplayKey key = ReplayKey.of(ctx.leafFingerprint, content.nonce());
        CommitResult r = guard.commit(key, content.timestampMillis());
        if (r instanceof CommitResult.Committed c) {
            return shared == SharedReplay.LOCAL ? Outcome.CONTINUE : claim(key, c.expiresAtMillis());
        }
        if (r instanceof CommitResult.Full) {
            return Outcome.drop(DropReason.REPLAY_CACHE_FULL, "replay cache full: failing closed");
        }
        if (r instanceof CommitResult.OutsideWindow) {
            return Outcome.drop(DropReason.TIMESTAMP_TOO_OLD, "timestamp left the window");
        }
        return Outcome.drop(DropReason.REPLAY, "knock already used");
    }

    private Outcome claim(ReplayKey key, long expiresAtMillis) {
        long ttl = expiresAtMillis - clock.millis() + guard.window().toMillis();
        CompletableFuture<SharedClaim> claim = shared.claimAsync(key, ttl);
        if (claim.isDone()) {
            return decide(claim.getNow(SharedClaim.UNAVAILABLE));
        }
        return new Outcome.Pending(claim.thenApply(ReplayCommit::decide));
    }

    /** Only {@link SharedClaim.Claimed} (or {@link SharedClaim.LocalOnly} where allowed) goes on to the grant. */
    static Outcome decide(SharedClaim claim) {
        if (claim instanceof SharedClaim.Claimed || claim instanceof SharedClaim.LocalOnly) {
            return Outcome.CONTINUE;
        }
        if (claim instanceof SharedClaim.AlreadyClaimed) {
            return Outcome.drop(DropReason.REPLAY, "knock already used at a gateway of the group");
        }
        return Outcome.drop(DropReason.REPLAY_STORE_UNAVAILABLE, "replay store does not answer: failing closed");
    }
}
