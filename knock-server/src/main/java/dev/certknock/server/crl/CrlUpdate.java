package dev.certknock.server.crl;

import java.math.BigInteger;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/** The outcome of {@link CrlStore#offer}. */
public sealed interface CrlUpdate {

    /**
     * The CRL is now the one held for the CA key that signed it.
     *
     * @param caKey               the CA key whose signature verified (the cache files the CRL under it)
     * @param newlyRevokedSerials serials on this CRL that were not on the CRL held before (all of them for an
     *                            issuer's first CRL)
     */
    record Accepted(byte[] der, CaKey caKey, BigInteger crlNumber, Set<BigInteger> newlyRevokedSerials)
            implements CrlUpdate {
        public Accepted {
            Objects.requireNonNull(der, "der");
            Objects.requireNonNull(caKey, "caKey");
            Objects.requireNonNull(crlNumber, "crlNumber");
            newlyRevokedSerials = Set.copyOf(newlyRevokedSerials);
        }

        /** The CRL's bytes (DER), for the cache: the store itself keeps only its entries in compact form. */
        @Override
        public byte[] der() {
            return der.clone();
        }

        public X500Principal issuer() {
            return caKey.name();
        }
    }

    /** The same CRL as held (same bytes), or one with the same CRL number that is not newer: nothing to learn. */
    record Unchanged(X500Principal issuer, BigInteger crlNumber) implements CrlUpdate {
    }

    /** Refused; the CRL held before (if any) stays in force. The message is for operators. */
    record Rejected(RejectionReason reason, String message) implements CrlUpdate {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }
    }
}
