package dev.certknock.server.crl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the CRL subsystem.
 *
 * @param sources         where CRLs are fetched, in order; may be empty (then only the cache is used)
 * @param refreshInterval how often every source is fetched (also fetched at a held CRL's nextUpdate if sooner)
 * @param cachePath       directory that keeps the last good CRL of each issuer
 * @param staleGrace      how long past its nextUpdate a CRL still counts as fresh
 * @param connectTimeout  TCP (and TLS) connect timeout
 * @param responseTimeout longest wait for response data; the whole fetch is also bounded by
 *                        connectTimeout + responseTimeout
 * @param maxBytes        largest CRL accepted, in bytes (HTTP body or file)
 * @param maxRedirects    HTTP redirects followed at most (0 = none); redirect loops fail at once
 */
public record CrlSettings(List<CrlSource> sources, Duration refreshInterval, Path cachePath, Duration staleGrace,
        Duration connectTimeout, Duration responseTimeout, int maxBytes, int maxRedirects) {

    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofMinutes(15);
    public static final Duration DEFAULT_STALE_GRACE = Duration.ZERO;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
    public static final int DEFAULT_MAX_REDIRECTS = 3;

    public CrlSettings {
        sources = List.copyOf(Objects.requireNonNull(sources, "sources"));
        Objects.requireNonNull(cachePath, "cachePath");
        positive("refreshInterval", refreshInterval);
        positive("connectTimeout", connectTimeout);
        positive("responseTimeout", responseTimeout);
        Objects.requireNonNull(staleGrace, "staleGrace");
        if (staleGrace.isNegative()) {
            throw new IllegalArgumentException("staleGrace must not be negative: " + staleGrace);
        }
        if (refreshInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("refreshInterval must be at least 1 s: " + refreshInterval);
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        if (maxRedirects < 0) {
            throw new IllegalArgumentException("maxRedirects must not be negative: " + maxRedirects);
        }
    }

    /**
     * Defaults: refresh every 15 minutes, no stale grace (fail closed at nextUpdate), connect timeout 5 s,
     * response timeout 10 s, at most 10 MiB, at most 3 redirects.
     */
    public static CrlSettings defaults(List<CrlSource> sources, Path cacheDir) {
        return new CrlSettings(sources, DEFAULT_REFRESH_INTERVAL, cacheDir, DEFAULT_STALE_GRACE, DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_RESPONSE_TIMEOUT, DEFAULT_MAX_BYTES, DEFAULT_MAX_REDIRECTS);
    }

    public CrlSettings withRefreshInterval(Duration interval) {
        return new CrlSettings(sources, interval, cachePath, staleGrace, connectTimeout, responseTimeout, maxBytes,
                maxRedirects);
    }

    public CrlSettings withStaleGrace(Duration grace) {
        return new CrlSettings(sources, refreshInterval, cachePath, grace, connectTimeout, responseTimeout, maxBytes,
                maxRedirects);
    }

    public CrlSettings withTimeouts(Duration connect, Duration response) {
        return new CrlSettings(sources, refreshInterval, cachePath, staleGrace, connect, response, maxBytes, maxRedirects);
    }

    public CrlSettings withMaxBytes(int max) {
        return new CrlSettings(sources, refreshInterval, cachePath, staleGrace, connectTimeout, responseTimeout, max,
                maxRedirects);
    }

    public CrlSettings withMaxRedirects(int max) {
        return new CrlSettings(sources, refreshInterval, cachePath, staleGrace, connectTimeout, responseTimeout, maxBytes,
                max);
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }
}
