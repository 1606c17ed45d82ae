package dev.certknock.server.crl;

import java.util.Objects;

/** The outcome of {@link CrlFetcher#fetch}. */
public sealed interface FetchResult {

    /**
     * A body was fetched, at most maxBytes long; PEM ({@code -----BEGIN X509 CRL-----}) has already been
     * decoded, so this is DER as far as the fetcher can tell. The array is not copied: do not modify it.
     */
    record Fetched(byte[] body) implements FetchResult {
        public Fetched {
            Objects.requireNonNull(body, "body");
        }
    }

    /** The server answered 304 to a conditional request: the CRL fetched before is still current. */
    record NotModified() implements FetchResult {
    }

    /** Nothing usable was fetched; the reason is for operators. */
    record Failed(String reason) implements FetchResult {
        public Failed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
