package dev.certknock.server.event;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * Limits a kind of log line to {@code permits} lines per {@code interval}: the lines over the limit are not
 * logged at their level (callers log them at DEBUG or not at all) but counted, and the count is handed to the
 * next line that is, so that line can say how many were left out. Intervals run on a monotonic clock, so a
 * step of the wall clock neither silences a line nor lets a flood through. Thread-safe.
 *
 * <p>The one implementation of "WARN at most once every N s, the rest counted in the next WARN" (a firewall
 * refusing grants), and of "at most N lines a second" (drop lines, audit drop lines, internal errors).
 */
public final class LogThrottle {

    private final int permits;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private boolean started;
    private long windowStart;
    private int used;
    private long suppressed;

    /**
     * @param permits  lines allowed per interval, at least 1
     * @param interval the interval, positive
     * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime})
     */
    public LogThrottle(int permits, Duration interval, LongSupplier nanoTime) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1: " + permits);
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        this.permits = permits;
        this.intervalNanos = interval.toNanos();
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * Asks to log one line.
     *
     * @return empty when the line is over the limit (it is counted); otherwise how many lines were over the
     *         limit since the last one allowed, which the caller includes in the line it logs
     */
    public synchronized OptionalLong acquire() {
        long now = nanoTime.getAsLong();
        if (!started || now - windowStart >= intervalNanos) { // differences only: nanoTime's origin is arbitrary
            started = true;
            windowStart = now;
            used = 0;
        }
        if (used >= permits) {
            suppressed++;
            return OptionalLong.empty();
        }
        used++;
        long before = suppressed;
        suppressed = 0;
        return OptionalLong.of(before);
    }
}
