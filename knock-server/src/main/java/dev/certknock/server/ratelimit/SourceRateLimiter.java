package dev.certknock.server.ratelimit;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Per-source token buckets of <em>failures</em>, keyed by {@link SourceKey} (IPv4 /32, IPv6 /64),
 * remembering at most {@code maxTracked} sources (least recently seen forgotten first). O(1) per packet.
 *
 * <p>A source address can be spoofed, so nothing is charged for a packet merely arriving from it: a
 * source is charged ({@link #charge}) when a packet from it failed after the server spent cryptography on
 * it, and is in good standing ({@link #inGoodStanding}) while its bucket holds a token. Junk sent with a
 * victim's address puts the victim's address in bad standing, but does not stop its knocks: the pipeline
 * only holds sources in bad standing back when the public-key budget has nothing to spare.
 *
 * <p>For the order in which the dispatcher's queue serves sources (docs/DESIGN.md D24) it tells a
 * source's {@link #standing}: a source whose knock verified recently ({@link #verified}) and that has
 * failures to spare is {@link Standing#TRUSTED}; then come sources with a full bucket (new ones
 * included), sources charged recently, and sources out of failures. That is an order only: a verified
 * knock gives its source no tokens and no budget.
 */
public final class SourceRateLimiter {

    /** How long after its last verified knock a source in good standing stays {@link Standing#TRUSTED}. */
    public static final long TRUSTED_FOR_NANOS = TimeUnit.MINUTES.toNanos(10);

    /** A source's standing, for the order in which the queue serves it; best first. */
    public enum Standing {
        /** Failures to spare, and a knock from it verified in the last {@link #TRUSTED_FOR_NANOS}. */
        TRUSTED,
        /** Never seen, or no failure charged to it recently: its bucket is full. */
        CLEAN,
        /** Failures to spare, but some were charged to it recently: its bucket is not full. */
        FAILING,
        /** Out of failures: its packets kept failing after the server spent work on them. */
        BAD
    }

    /** What is remembered of one source. */
    private static final class SourceState {
        final TokenBucket failures;
        volatile boolean verified;
        volatile long verifiedAtNanos;

        SourceState(TokenBucket failures) {
            this.failures = failures;
        }
    }

    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoTime;
    private final Map<SourceKey, SourceState> buckets;

    /**
     * @param perSecond failures a second a source may have and stay in good standing
     * @param burst failures a source may have at once
     * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime}): buckets refill on it,
     *     so steps of the wall clock change nothing
     */
    public SourceRateLimiter(double perSecond, double burst, int maxTracked, LongSupplier nanoTime) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoTime = nanoTime;
        this.buckets = new LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<SourceKey, SourceState> eldest) {
                return size() > maxTracked;
            }
        };
    }

    /** Whether the source has failures to spare; a source never charged is. Charges nothing. */
    public boolean inGoodStanding(InetAddress source) {
        SourceState state;
        synchronized (buckets) {
            state = buckets.get(SourceKey.of(source));
        }
        return state == null || state.failures.hasTokens(1.0);
    }

    /** The source's standing now. Charges nothing. */
    public Standing standing(SourceKey source) {
        SourceState state;
        synchronized (buckets) {
            state = buckets.get(source);
        }
        if (state == null) {
            return Standing.CLEAN;
        }
        double tokens = state.failures.available();
        if (tokens < 1.0) {
            return Standing.BAD;
        }
        if (state.verified && nanoTime.getAsLong() - state.verifiedAtNanos < TRUSTED_FOR_NANOS) {
            return Standing.TRUSTED;
        }
        return tokens >= burst ? Standing.CLEAN : Standing.FAILING;
    }

    /** Records that a knock from the source verified. Gives it no tokens. */
    public void verified(InetAddress source) {
        SourceState state = state(SourceKey.of(source));
        state.verifiedAtNanos = nanoTime.getAsLong();
        state.verified = true;
    }

    /** Charges one failure to the source. */
    public void charge(InetAddress source) {
        tryAcquire(source);
    }

    /** Takes one token from the source's bucket if it has one. */
    public boolean tryAcquire(InetAddress source) {
        return state(SourceKey.of(source)).failures.tryAcquire();
    }

    private SourceState state(SourceKey key) {
        synchronized (buckets) {
            return buckets.computeIfAbsent(key, k -> new SourceState(new TokenBucket(perSecond, burst, nanoTime)));
        }
    }

    public int tracked() {
        synchronized (buckets) {
            return buckets.size();
        }
    }
}
