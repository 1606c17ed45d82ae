package dev.certknock.server.grant;

import dev.certknock.protocol.grant.PortGrant;
import java.math.BigInteger;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * What the server decided to open: these grants, for this address, until then, on behalf of this
 * certificate (issuer and serial, so a revocation can find and close it).
 */
public record GrantDecision(InetAddress address, List<PortGrant> grants, Duration duration, Instant openedAt,
        X500Principal subject, X500Principal issuer, BigInteger serial) {

    public GrantDecision {
        grants = List.copyOf(grants);
    }

    public Instant expiresAt() {
        return openedAt.plus(duration);
    }
}
