package dev.certknock.server.trust;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.knock.DropReason;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

/** The outcome of validating a client's certificate chain. */
public sealed interface ChainResult {

    /**
     * @param path leaf first, then the intermediates used, without the trust anchor
     * @param refs each certificate of {@code path} as a CRL names it (its issuer's key and its serial), same order
     * @param grants the leaf's grants extension, as it is
     * @param caMaxOpenSeconds the least maxOpenSeconds of the CAs of the path (trust anchor included) whose grants
     *     extension bounds the leaf; empty when none sets one
     * @param notBefore latest notBefore of the path; @param notAfter earliest notAfter
     */
    record Valid(List<X509Certificate> path, List<CertRef> refs, CertknockGrants grants, OptionalInt caMaxOpenSeconds,
            Instant notBefore, Instant notAfter) implements ChainResult {
        public Valid {
            java.util.Objects.requireNonNull(caMaxOpenSeconds, "caMaxOpenSeconds");
            path = List.copyOf(path);
            refs = List.copyOf(refs);
            if (refs.size() != path.size()) {
                throw new IllegalArgumentException("one reference per certificate of the path");
            }
        }

        boolean coversInstant(Instant now) {
            return !now.isBefore(notBefore) && !now.isAfter(notAfter);
        }
    }

    record Invalid(DropReason reason, String detail) implements ChainResult {
    }
}
