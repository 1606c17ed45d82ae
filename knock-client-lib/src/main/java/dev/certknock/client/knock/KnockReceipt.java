package dev.certknock.client.knock;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockRequest;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a sent knock carried and where it went.
 *
 * @param datagramSize bytes of the UDP payload
 * @param timestampMillis the sealed timestamp, UTC milliseconds since the epoch
 * @param target the resolved server address and knock port
 * @param sourcePort the local UDP port it was sent from (fresh for every knock)
 * @param grants the grants requested
 * @param durationSeconds the open time requested
 * @param declaredIpv4 the declared IPv4 address, if any
 * @param declaredIpv6 the declared IPv6 address, if any
 */
public record KnockReceipt(int datagramSize, long timestampMillis, InetSocketAddress target, int sourcePort,
        List<PortGrant> grants, int durationSeconds, Optional<Inet4Address> declaredIpv4,
        Optional<Inet6Address> declaredIpv6) {

    public KnockReceipt {
        Objects.requireNonNull(target, "target");
        grants = List.copyOf(grants);
        Objects.requireNonNull(declaredIpv4, "declaredIpv4");
        Objects.requireNonNull(declaredIpv6, "declaredIpv6");
    }

    public Instant timestamp() {
        return Instant.ofEpochMilli(timestampMillis);
    }

    /** The request this knock carried: resending it seals a new knock (new nonce, new timestamp). */
    public KnockRequest request() {
        return new KnockRequest(grants, durationSeconds, declaredIpv4, declaredIpv6);
    }
}
