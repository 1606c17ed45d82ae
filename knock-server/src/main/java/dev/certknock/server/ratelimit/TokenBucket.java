package dev.certknock.server.ratelimit;

import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A token bucket: {@code ratePerSecond} tokens a second, at most {@code burst} saved up. Thread-safe.
 *
 * <p>It refills from a monotonic clock ({@link System#nanoTime()} in the server), never the wall clock:
 * a wall clock stepped back would freeze the refill for as long as the step, and one stepped forward
 * would fill the bucket at once.
 */
public final class TokenBucket {

    private final double ratePerSecond;
    private final double ratePerNano;
    private final double burst;
    private final LongSupplier nanoTime;
    private double tokens;
    private long lastNanos;

    /**
     * @param nanoTime a monotonic clock in nanoseconds, such as {@code System::nanoTime}
     */
    public TokenBucket(double ratePerSecond, double burst, LongSupplier nanoTime) {
        this.ratePerSecond = ratePerSecond;
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.tokens = burst;
        this.lastNanos = nanoTime.getAsLong();
    }

    public synchronized boolean tryAcquire() {
        return tryAcquire(1.0);
    }

    /** Takes {@code cost} tokens if the bucket holds that many; otherwise takes nothing. */
    public synchronized boolean tryAcquire(double cost) {
        refill();
        if (tokens >= cost) {
            tokens -= cost;
            return true;
        }
        return false;
    }

    /**
     * Takes {@code cost} tokens if at least {@code floor} tokens would be left; otherwise takes nothing.
     * Lets lesser claims use only what is spare, keeping the tokens below the floor for the others.
     */
    public synchronized boolean tryAcquireAbove(double cost, double floor) {
        refill();
        if (tokens - cost >= floor) {
            tokens -= cost;
            return true;
        }
        return false;
    }

    /** Whether the bucket holds {@code count} tokens now. Takes nothing. */
    public synchronized boolean hasTokens(double count) {
        refill();
        return tokens >= count;
    }

    /** The tokens the bucket holds now. Takes nothing. */
    public synchronized double available() {
        refill();
        return tokens;
    }

    /** Tokens added a second. */
    public double ratePerSecond() {
        return ratePerSecond;
    }

    /** The most tokens the bucket saves up. */
    public double burst() {
        return burst;
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        long elapsed = now - lastNanos; // differences only: nanoTime's origin is arbitrary
        if (elapsed > 0) {
            tokens = Math.min(burst, tokens + elapsed * ratePerNano);
            lastNanos = now;
        }
    }
}
