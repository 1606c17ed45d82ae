package dev.certknock.server.trust;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.server.knock.DropReason;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/** The outcome of validating a client's certificate chain. */
public sealed interface ChainResult {

    /**
     * @param path leaf first, then the intermediates used, without the trust anchor
     * @param notBefore latest notBefore of the path; @param notAfter earliest notAfter
     */
    record Valid(List<X509Certificate> path, CertknockGrants grants, Instant notBefore, Instant notAfter)
            implements ChainResult {
        public Valid {
            path = List.copyOf(path);
        }

        boolean coversInstant(Instant now) {
            return !now.isBefore(notBefore) && !now.isAfter(notAfter);
        }
    }

    record Invalid(DropReason reason, String detail) implements ChainResult {
    }
}
