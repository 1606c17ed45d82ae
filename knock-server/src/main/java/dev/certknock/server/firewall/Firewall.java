package dev.certknock.server.firewall;

import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * Where grants take effect. Idempotent: opening a grant that is already open only extends its expiry
 * (never duplicates it). Implementations: {@link LogFirewall} here; nftables, iptables and command
 * backends with the network-edge issue.
 */
public interface Firewall extends AutoCloseable {

    /** Opens (or refreshes) the grant until {@link GrantDecision#expiresAt()}. */
    void open(GrantDecision decision) throws FirewallException;

    /** Closes every open grant of this certificate at once (it was revoked); returns how many were open. */
    int closeCertificate(X500Principal issuer, BigInteger serial) throws FirewallException;

    /**
     * Closes every open grant of these certificates of one issuer (a CRL newly revoked them); returns how many
     * were open. This default closes them one by one, and goes on after a failure (the first is thrown at the
     * end); a backend that can do it in one batch does.
     */
    default int closeCertificates(X500Principal issuer, Set<BigInteger> serials) throws FirewallException {
        int closed = 0;
        FirewallException first = null;
        for (BigInteger serial : serials) {
            try {
                closed += closeCertificate(issuer, serial);
            } catch (FirewallException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return closed;
    }

    /** The grants open now. */
    List<GrantDecision> active(Instant now);

    @Override
    void close();
}
