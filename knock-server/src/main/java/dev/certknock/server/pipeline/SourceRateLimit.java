package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.ratelimit.SourceRateLimiter;
import java.net.InetAddress;

/**
 * Per-source accounting (IPv4 /32, IPv6 /64) before any public-key work, on an address anyone can
 * spoof. So arriving costs a source nothing: it is charged a token only when its packet is dropped for
 * something the packet got wrong ({@link DropReason#chargedToSender()}), after the server spent work on
 * it. A source with tokens left is in good standing and may use the whole {@link PublicKeyBudget}; a
 * source out of tokens only what the budget has to spare, and is dropped
 * {@link DropReason#SOURCE_RATE_LIMITED} when there is none. Junk sent with a victim's address thus
 * costs the victim nothing while the budget has room, and a flood from sources in bad standing cannot
 * take the budget's reserve from clean sources. An accepted knock is recorded
 * ({@link SourceRateLimiter#verified}), which puts its source first in the dispatcher's queue while it
 * stays in good standing.
 */
public final class SourceRateLimit implements Stage {

    private final SourceRateLimiter limiter;

    public SourceRateLimit(SourceRateLimiter limiter) {
        this.limiter = limiter;
    }

    /** The standing it keeps; the dispatcher orders its queue by it. */
    public SourceRateLimiter limiter() {
        return limiter;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        InetAddress source = ctx.source().getAddress();
        ctx.sourceInGoodStanding = limiter.inGoodStanding(source);
        ctx.chargeSender = () -> limiter.charge(source);
        ctx.creditSender = () -> limiter.verified(source);
        return Outcome.CONTINUE;
    }
}
