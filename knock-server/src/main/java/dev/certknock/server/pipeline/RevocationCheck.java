package dev.certknock.server.pipeline;

import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.crl.RevocationStatus;
import java.security.cert.X509Certificate;

/**
 * Every certificate of the validated path (leaf and intermediates) against its issuer's CRL. Fails
 * closed: no CRL, or one past nextUpdate beyond the grace period, refuses the knock.
 */
public final class RevocationCheck implements Stage {

    private final CrlStore crls;

    public RevocationCheck(CrlStore crls) {
        this.crls = crls;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        for (X509Certificate c : ctx.validatedPath) {
            RevocationStatus s = crls.status(c);
            if (s instanceof RevocationStatus.Revoked) {
                return Outcome.drop(DropReason.REVOKED, "certificate revoked");
            }
            if (s instanceof RevocationStatus.Unavailable) {
                return Outcome.drop(DropReason.REVOCATION_UNAVAILABLE, "no fresh CRL for the issuer: failing closed");
            }
        }
        return Outcome.CONTINUE;
    }
}
