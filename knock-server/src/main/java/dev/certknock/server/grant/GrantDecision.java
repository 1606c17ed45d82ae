package dev.certknock.server.grant;

import dev.certknock.protocol.grant.PortGrant;
import java.math.BigInteger;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * What the server decided to open: these grants, for this address, until then, on behalf of this holder (its
 * certificate and the CA certificates of its path, so that a revocation of any of them finds and closes it).
 */
public record GrantDecision(InetAddress address, List<PortGrant> grants, Duration duration, Instant openedAt,
        Holder holder) {

    public GrantDecision {
        grants = List.copyOf(grants);
    }

    public Instant expiresAt() {
        return openedAt.plus(duration);
    }

    public X500Principal subject() {
        return holder.subject();
    }

    public X500Principal issuer() {
        return holder.issuer();
    }

    public BigInteger serial() {
        return holder.serial();
    }
}
