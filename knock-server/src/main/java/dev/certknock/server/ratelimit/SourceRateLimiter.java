package dev.certknock.server.ratelimit;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
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
 */
public final class SourceRateLimiter {

    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoTime;
    private final Map<SourceKey, TokenBucket> buckets;

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
            protected boolean removeEldestEntry(Map.Entry<SourceKey, TokenBucket> eldest) {
                return size() > maxTracked;
            }
        };
    }

    /** Whether the source has failures to spare; a source never charged is. Charges nothing. */
    public boolean inGoodStanding(InetAddress source) {
        TokenBucket bucket;
        synchronized (buckets) {
            bucket = buckets.get(SourceKey.of(source));
        }
        return bucket == null || bucket.hasTokens(1.0);
    }

    /** Charges one failure to the source. */
    public void charge(InetAddress source) {
        tryAcquire(source);
    }

    /** Takes one token from the source's bucket if it has one. */
    public boolean tryAcquire(InetAddress source) {
        TokenBucket bucket;
        SourceKey key = SourceKey.of(source);
        synchronized (buckets) {
            bucket = buckets.computeIfAbsent(key, k -> new TokenBucket(perSecond, burst, nanoTime));
        }
        return bucket.tryAcquire();
    }

    public int tracked() {
        synchronized (buckets) {
            return buckets.size();
        }
    }
}
