package dev.certknock.testing.time;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * A clock that tests set and advance by hand, with a monotonic reading beside the wall clock, as a
 * server has both ({@link System#currentTimeMillis()} and {@link System#nanoTime()}). Thread-safe. Its
 * zone is UTC unless told otherwise.
 *
 * <p>{@link #advance} is time passing: the wall clock and the monotonic reading move together (the
 * monotonic reading only forward, so a negative advance is a step of the wall clock alone).
 * {@link #set} and {@link #stepWall} step the wall clock only, as NTP or an operator does;
 * {@link #advanceMonotonic} moves the monotonic reading only. Pass {@link #nanoTime} (or
 * {@link #monotonic()}) wherever code takes a {@code LongSupplier} of monotonic nanoseconds.
 */
public final class MutableClock extends Clock {

    private final AtomicReference<Instant> now;
    private final AtomicLong nanos;
    private final ZoneId zone;

    private MutableClock(AtomicReference<Instant> now, AtomicLong nanos, ZoneId zone) {
        this.now = now;
        this.nanos = nanos;
        this.zone = zone;
    }

    public static MutableClock at(Instant start) {
        // An arbitrary origin, as System.nanoTime's is: code must use differences only.
        return new MutableClock(new AtomicReference<>(Objects.requireNonNull(start)), new AtomicLong(1_000_000_000L),
                ZoneOffset.UTC);
    }

    /** A clock at the current system time, truncated to the millisecond. */
    public static MutableClock atSystemTime() {
        return at(Instant.ofEpochMilli(System.currentTimeMillis()));
    }

    /** Steps the wall clock to {@code instant}; the monotonic reading does not move. */
    public void set(Instant instant) {
        now.set(Objects.requireNonNull(instant));
    }

    /**
     * Time passes: the wall clock moves by {@code by}, and the monotonic reading too if {@code by} is
     * positive (it never goes back).
     */
    public Instant advance(Duration by) {
        if (!by.isNegative()) {
            nanos.addAndGet(by.toNanos());
        }
        return now.updateAndGet(i -> i.plus(by));
    }

    /** Steps the wall clock by {@code by} (either way); the monotonic reading does not move. */
    public Instant stepWall(Duration by) {
        return now.updateAndGet(i -> i.plus(by));
    }

    /** Moves the monotonic reading forward by {@code by}; the wall clock does not move. */
    public void advanceMonotonic(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a monotonic clock never goes back: " + by);
        }
        nanos.addAndGet(by.toNanos());
    }

    /** The monotonic reading in nanoseconds, from an arbitrary origin (as {@link System#nanoTime()}). */
    public long nanoTime() {
        return nanos.get();
    }

    /** {@link #nanoTime()} as a supplier. */
    public LongSupplier monotonic() {
        return this::nanoTime;
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** A view in another zone that shares this clock's instant and monotonic reading. */
    @Override
    public Clock withZone(ZoneId zone) {
        return new MutableClock(now, nanos, zone);
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public long millis() {
        return now.get().toEpochMilli();
    }

    @Override
    public String toString() {
        return "MutableClock[" + now.get() + "," + zone + ",monotonic " + nanos.get() + " ns]";
    }
}
