package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.crl.RevocationStatus;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Every certificate of the validated path (leaf and intermediates) against the CRL of the CA key that signed
 * it: the next certificate of the path, or for the last one the trust anchor (found by the store among the
 * anchors of that name). Intermediates of the path that the server does not hold are learned first, so that
 * a client may send its intermediate in the knock. Fails closed: no CRL, or one past nextUpdate beyond the
 * grace period, refuses the knock.
 */
public final class RevocationCheck implements Stage {

    private final CrlStore crls;

    public RevocationCheck(CrlStore crls) {
        this.crls = crls;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        List<X509Certificate> path = ctx.validatedPath;
        // intermediates the client sent and the server does not hold: their CRLs are accepted from now on
        crls.learnIntermediates(path);
        for (int i = 0; i < path.size(); i++) {
            RevocationStatus s = crls.status(path.get(i), i + 1 < path.size() ? path.get(i + 1) : null);
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
