package dev.certknock.server.pipeline;

import dev.certknock.server.ratelimit.SourceRateLimiter;

/** Per-source budget (IPv4 /32, IPv6 /64) before any public-key work. */
public final class SourceRateLimit implements Stage {

    private final SourceRateLimiter limiter;

    public SourceRateLimit(SourceRateLimiter limiter) {
        this.limiter = limiter;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        return limiter.tryAcquire(ctx.source().getAddress()) ? Outcome.CONTINUE
                : Outcome.drop(DropReason.SOURCE_RATE_LIMITED, "source over its knock rate");
    }
}
