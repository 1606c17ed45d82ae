package dev.certknock.server.ratelimit;

import java.time.Clock;

/** A token bucket: {@code ratePerSecond} tokens a second, at most {@code burst} saved up. Thread-safe. */
public final class TokenBucket {

    private final double ratePerMilli;
    private final double burst;
    private final Clock clock;
    private double tokens;
    private long lastMillis;

    public TokenBucket(double ratePerSecond, double burst, Clock clock) {
        this.ratePerMilli = ratePerSecond / 1000.0;
        this.burst = burst;
        this.clock = clock;
        this.tokens = burst;
        this.lastMillis = clock.millis();
    }

    public synchronized boolean tryAcquire() {
        long now = clock.millis();
        if (now > lastMillis) {
            tokens = Math.min(burst, tokens + (now - lastMillis) * ratePerMilli);
            lastMillis = now;
        }
        if (tokens >= 1.0) {
            tokens -= 1.0;
            return true;
        }
        return false;
    }
}
