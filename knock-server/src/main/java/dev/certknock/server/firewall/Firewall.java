package dev.certknock.server.firewall;

import dev.certknock.server.pipeline.GrantDecision;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
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

    /** The grants open now. */
    List<GrantDecision> active(Instant now);

    @Override
    void close();
}
