package dev.certknock.server.ratelimit;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per-source token buckets, keyed by IPv4 address (/32) or IPv6 /64 prefix (one customer's subnet),
 * remembering at most {@code maxTracked} sources (least recently seen forgotten first). O(1) per packet.
 */
public final class SourceRateLimiter {

    private record Key(boolean v6, long bits) {
    }

    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoTime;
    private final Map<Key, TokenBucket> buckets;

    /**
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
            protected boolean removeEldestEntry(Map.Entry<Key, TokenBucket> eldest) {
                return size() > maxTracked;
            }
        };
    }

    public boolean tryAcquire(InetAddress source) {
        TokenBucket bucket;
        Key key = keyOf(source);
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

    static Key keyOf(InetAddress a) {
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            return new Key(false, ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL));
        }
        long prefix = 0;
        for (int i = 0; i < 8; i++) {
            prefix = (prefix << 8) | (b[i] & 0xFF);
        }
        return new Key(true, prefix);
    }
}
