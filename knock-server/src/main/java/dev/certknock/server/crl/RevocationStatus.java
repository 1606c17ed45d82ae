package dev.certknock.server.crl;

import java.security.cert.CRLReason;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A certificate's revocation status according to the CRLs held. The store only reports; what to do on
 * {@link Unavailable} (fail closed) is the caller's policy.
 */
public sealed interface RevocationStatus {

    Good GOOD = new Good();

    /** On the issuer's fresh CRL, the certificate is not listed. */
    record Good() implements RevocationStatus {
    }

    /** Listed on the issuer's CRL. Reported even when that CRL is stale: a revocation is never undone by age. */
    record Revoked(Instant revocationDate, Optional<CRLReason> reason) implements RevocationStatus {
        public Revoked {
            Objects.requireNonNull(revocationDate, "revocationDate");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** No usable CRL for the certificate's issuer. */
    record Unavailable(UnavailableReason reason) implements RevocationStatus {
        public Unavailable {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
