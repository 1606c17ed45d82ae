package dev.certknock.protocol.knock;

import dev.certknock.protocol.grant.PortGrant;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The fields of an opened knock: when the client says it sent it, its nonce, the grants and duration it
 * asks for, the addresses it declares, and its certificate chain (leaf first).
 */
public record KnockContent(long timestampMillis, KnockNonce nonce, List<PortGrant> grants, int durationSeconds,
        Optional<Inet4Address> declaredIpv4, Optional<Inet6Address> declaredIpv6, List<X509Certificate> chain) {

    public KnockContent {
        grants = List.copyOf(grants);
        chain = List.copyOf(chain);
    }

    public Instant timestamp() {
        return Instant.ofEpochMilli(timestampMillis);
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }
}
