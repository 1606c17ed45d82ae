package dev.certknock.server.crl;

import java.math.BigInteger;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * Told about CRL changes by {@link CrlStore}. Called on the thread that offered the CRL (or ran
 * {@link CrlStore#checkFreshness}), in order, while the store holds its update lock: keep it quick and do
 * not block. An exception thrown here is logged and does not affect the store.
 */
public interface CrlListener {

    /**
     * A CRL was accepted and is in force for new look-ups.
     *
     * @param issuer the CA key that signed it (its name alone may be shared by another CA)
     */
    void crlAccepted(CaKey issuer, BigInteger crlNumber, Set<BigInteger> newlyRevokedSerials);

    /** A CRL was refused; the one held before stays in force. */
    void crlRejected(String origin, RejectionReason reason, String message);

    /**
     * The issuer's CRL became stale (or no CRL is held for a trusted issuer: {@code fresh == false}), or fresh
     * again. Reported once per change, by {@link CrlStore#checkFreshness}.
     */
    default void freshnessChanged(X500Principal issuer, boolean fresh) {
    }
}
