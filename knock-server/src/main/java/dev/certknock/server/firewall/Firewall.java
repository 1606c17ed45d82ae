package dev.certknock.server.firewall;

import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.GrantDecision;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * Where grants take effect: the {@link GrantLedger} over one backend's {@link ElementWriter}. Idempotent: opening
 * a grant that is already open only extends its expiry (never duplicates it).
 */
public interface Firewall extends AutoCloseable {

    /**
     * Opens (or extends) the grant until {@link GrantDecision#expiresAt()}, or refuses it before writing anything.
     *
     * @throws FirewallException when the backend failed (the grant is not open)
     */
    GrantOutcome open(GrantDecision decision) throws FirewallException;

    /**
     * Closes every open grant held under any of these certificates: a leaf, or a CA certificate of the holder's
     * path (then every grant issued below it). Returns how many grants closed.
     */
    int revoke(Set<CertRef> revoked) throws FirewallException;

    /** The grants open now. */
    List<GrantDecision> active(Instant now);

    @Override
    void close();
}
