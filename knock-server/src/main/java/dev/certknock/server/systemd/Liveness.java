package dev.certknock.server.systemd;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Whether the server still makes progress, from figures its threads leave behind ({@link Vitals}), never from a
 * timer of its own: the systemd watchdog is fed ({@code WATCHDOG=1}) only while {@link #check} says
 * {@link Alive}. Stalled, checked in this order, when
 * <ul>
 *   <li>a worker thread has ended;</li>
 *   <li>a worker has been on one datagram for longer than {@code bound} (a knock takes milliseconds; the
 *       slowest legitimate one waits for a firewall program, at most its timeout, 10 s by default);</li>
 *   <li>datagrams are queued and no worker has taken one for longer than {@code bound};</li>
 *   <li>the capture thread has not come round its loop for longer than {@code max(bound, 2 s)}
 *       ({@code PacketSource.lastTurnNanos}: the UDP socket's receive times out each second; the pcap thread is
 *       current while it waits inside libpcap, and at most a second apart in its reopen backoff; a thread that
 *       ended or hangs in our code stops);</li>
 *   <li>the housekeeping thread (grant expiry, replay sweep, every second) has not finished a run for longer
 *       than {@code max(bound, 2 s)}.</li>
 * </ul>
 */
public final class Liveness {

    /** The least gap allowed for the threads that come round on their own every second or so. */
    static final Duration PERIODIC_FLOOR = Duration.ofSeconds(2);

    /**
     * What the check reads, all at one instant.
     *
     * @param nanoNow          {@link System#nanoTime()} when read
     * @param captureTurn      when the capture thread last came round its loop
     * @param housekeepingTurn when the housekeeping thread last finished a run
     * @param longestBusy      nanoseconds the worker longest on one datagram has been on it (0: all idle)
     * @param deadWorkers      worker threads that have ended
     * @param queued           datagrams waiting in the dispatch queue
     * @param taken            datagrams the workers have taken off the queue so far
     */
    public record Vitals(long nanoNow, long captureTurn, long housekeepingTurn, long longestBusy, int deadWorkers,
            int queued, long taken) {
    }

    /** The outcome of a check. */
    public sealed interface Health permits Alive, Stalled {
    }

    /** Every part makes progress. */
    public record Alive() implements Health {
    }

    /** A part has stopped; {@code reason} says which and for how long. */
    public record Stalled(String reason) implements Health {
    }

    private final Supplier<Vitals> vitals;
    private final long bound;
    private final long periodicBound;
    private long lastTaken = -1;
    private long takenMovedAt;

    public Liveness(Supplier<Vitals> vitals, Duration bound) {
        if (bound.isNegative() || bound.isZero()) {
            throw new IllegalArgumentException("liveness bound must be positive: " + bound);
        }
        this.vitals = vitals;
        this.bound = bound.toNanos();
        this.periodicBound = Math.max(this.bound, PERIODIC_FLOOR.toNanos());
    }

    /** Reads the vitals and judges them. */
    public synchronized Health check() {
        Vitals v = vitals.get();
        long now = v.nanoNow();
        if (v.taken() != lastTaken || v.queued() == 0) {
            lastTaken = v.taken();
            takenMovedAt = now;
        }
        if (v.deadWorkers() > 0) {
            return new Stalled(v.deadWorkers() + " worker thread(s) ended");
        }
        if (v.longestBusy() > bound) {
            return new Stalled("a worker has been on one knock for " + seconds(v.longestBusy()));
        }
        if (now - takenMovedAt > bound) {
            return new Stalled(v.queued() + " datagram(s) queued and none taken for " + seconds(now - takenMovedAt));
        }
        if (now - v.captureTurn() > periodicBound) {
            return new Stalled("capture thread has not come round its loop for " + seconds(now - v.captureTurn()));
        }
        if (now - v.housekeepingTurn() > periodicBound) {
            return new Stalled("housekeeping has not finished a run for " + seconds(now - v.housekeepingTurn()));
        }
        return new Alive();
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
    }
}
