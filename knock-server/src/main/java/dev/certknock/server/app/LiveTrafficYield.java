package dev.certknock.server.app;

import dev.certknock.server.dispatch.KnockDispatcher;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * How the background rehearsal yields to real knocks (docs/DESIGN.md D16): before each slice of its work (one knock,
 * or a few junk datagrams) it waits until the live dispatcher has been quiet for {@link #QUIET}: nothing queued, no
 * worker on a datagram, and none taken since it last looked. So while real datagrams arrive the rehearsal hands
 * nothing over, allocates nothing and holds no lock a live knock could need (the JDK's {@code SecureRandom} is one
 * shared lock), and the JIT compilations it would start wait with it. Only the slice already handed over finishes
 * (about a millisecond of a worker at nice 19). It looks every {@link #POLL} while it waits: reading three counters
 * of the live dispatcher, nothing on the capture's or the workers' path. Waiting is bounded in all
 * ({@link #MAX_WAIT}): a server that busy compiles its knock path on the real traffic, and the rehearsal stops.
 *
 * <p>One instance per rehearsal thread: {@link #await} is not for concurrent callers; the counters may be read from any
 * thread.
 */
final class LiveTrafficYield {

    /** How long the live dispatcher must have been quiet before a slice is handed over. */
    static final Duration QUIET = Duration.ofMillis(20);
    /** How often it looks while it waits. */
    static final Duration POLL = Duration.ofMillis(1);
    /** The most it waits in all before it gives up. */
    static final Duration MAX_WAIT = Duration.ofSeconds(120);

    private final KnockDispatcher live;
    private final long quietNanos;
    private final long maxWaitNanos;
    private long lastTaken;
    /** {@link System#nanoTime()} when the live dispatcher was last seen busy. */
    private long busyAt;
    private final AtomicLong waitedNanos = new AtomicLong();
    private final AtomicInteger pauses = new AtomicInteger();
    private final AtomicInteger slices = new AtomicInteger();

    /**
     * Yields to {@code live} with the defaults; {@code live} null yields to nothing (before capture starts, nothing
     * live competes).
     */
    static LiveTrafficYield to(KnockDispatcher live) {
        return new LiveTrafficYield(live, QUIET, MAX_WAIT);
    }

    LiveTrafficYield(KnockDispatcher live, Duration quiet, Duration maxWait) {
        this.live = live;
        this.quietNanos = quiet.toNanos();
        this.maxWaitNanos = maxWait.toNanos();
        this.lastTaken = live == null ? 0 : live.taken();
        this.busyAt = System.nanoTime() - quietNanos;
    }

    /**
     * Returns once the live dispatcher has been quiet for the quiet time (at once when it has been).
     *
     * @throws InterruptedException when {@code stop} says so, or the thread is interrupted, while it waits
     * @throws IllegalStateException when it has waited {@link #MAX_WAIT} in all
     */
    void await(BooleanSupplier stop) throws InterruptedException {
        if (live == null) {
            slices.incrementAndGet();
            return;
        }
        long now = System.nanoTime();
        boolean waited = false;
        while (true) {
            if (stop.getAsBoolean()) {
                throw new InterruptedException("stopped");
            }
            long taken = live.taken();
            if (taken != lastTaken || live.queued() > 0 || live.longestBusyNanos(now) > 0) {
                lastTaken = taken;
                busyAt = now;
            }
            if (now - busyAt >= quietNanos) {
                if (waited) {
                    pauses.incrementAndGet();
                }
                slices.incrementAndGet();
                return;
            }
            if (waitedNanos.get() >= maxWaitNanos) {
                throw new IllegalStateException("live knocks kept the server busy for " + waited().toSeconds()
                        + " s; it compiles on them instead");
            }
            TimeUnit.NANOSECONDS.sleep(POLL.toNanos());
            waited = true;
            long after = System.nanoTime();
            waitedNanos.addAndGet(after - now);
            now = after;
        }
    }

    /** Time spent waiting for the live dispatcher to be quiet, in all. */
    Duration waited() {
        return Duration.ofNanos(waitedNanos.get());
    }

    /** How many times a slice had to wait. */
    int pauses() {
        return pauses.get();
    }

    /** Slices let through so far. */
    int slices() {
        return slices.get();
    }
}
