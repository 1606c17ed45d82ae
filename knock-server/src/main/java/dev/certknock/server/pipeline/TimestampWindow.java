package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import java.time.Duration;

/** The knock's timestamp (UTC milliseconds) must be within the window of the server's clock, each way. */
public final class TimestampWindow implements Stage {

    private final long windowMillis;

    public TimestampWindow(Duration window) {
        this.windowMillis = window.toMillis();
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        long skew = ctx.unverified.claimedContent().timestampMillis() - ctx.now().toEpochMilli();
        if (skew < -windowMillis) {
            return Outcome.drop(DropReason.TIMESTAMP_TOO_OLD, "timestamp before the window");
        }
        if (skew > windowMillis) {
            return Outcome.drop(DropReason.TIMESTAMP_IN_FUTURE, "timestamp after the window");
        }
        return Outcome.CONTINUE;
    }
}
