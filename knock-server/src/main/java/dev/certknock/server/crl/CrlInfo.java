package dev.certknock.server.crl;

import java.math.BigInteger;
import java.time.Instant;
import javax.security.auth.x500.X500Principal;

/**
 * What the store holds for one CA key, for status output.
 *
 * @param staleAfter nextUpdate plus the store's stale grace
 * @param entries    number of revoked certificates listed
 * @param origin     where the CRL came from (a URL, a file, the cache)
 * @param keyId      the {@link CaKey#keyId} of the CA key that signed it
 */
public record CrlInfo(X500Principal issuer, BigInteger crlNumber, Instant thisUpdate, Instant nextUpdate,
        Instant staleAfter, int entries, String origin, Instant acceptedAt, String keyId) {

    /** The CA key whose CRL this is. */
    public CaKey caKey() {
        return new CaKey(issuer, keyId);
    }

    public boolean isStaleAt(Instant now) {
        return now.isAfter(staleAfter);
    }
}
