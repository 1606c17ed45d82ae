package dev.certknock.protocol.knock;

import dev.certknock.protocol.grant.PortGrant;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a client asks for: the grants to open, for how long, and optionally the addresses to open them
 * for (when the client is behind NAT and the server should not use the packet's source address).
 */
public record KnockRequest(List<PortGrant> grants, int durationSeconds,
        Optional<Inet4Address> declaredIpv4, Optional<Inet6Address> declaredIpv6) {

    public KnockRequest {
        grants = List.copyOf(grants);
        Objects.requireNonNull(declaredIpv4, "declaredIpv4");
        Objects.requireNonNull(declaredIpv6, "declaredIpv6");
        if (grants.isEmpty()) {
            throw new IllegalArgumentException("a knock must request at least one grant, e.g. tcp/22");
        }
        if (grants.size() > KnockFormat.MAX_GRANTS) {
            throw new IllegalArgumentException("a knock requests at most " + KnockFormat.MAX_GRANTS
                    + " grants, not " + grants.size() + ": merge adjacent ports into ranges");
        }
        if (durationSeconds < KnockFormat.MIN_DURATION_SECONDS || durationSeconds > KnockFormat.MAX_DURATION_SECONDS) {
            throw new IllegalArgumentException("duration " + durationSeconds + " s is outside 1-86400 seconds");
        }
    }

    /** A request for these grants, for this long, opened for the packet's source address. */
    public static KnockRequest of(int durationSeconds, List<PortGrant> grants) {
        return new KnockRequest(grants, durationSeconds, Optional.empty(), Optional.empty());
    }

    public KnockRequest withDeclaredIpv4(Inet4Address address) {
        return new KnockRequest(grants, durationSeconds, Optional.of(address), declaredIpv6);
    }

    public KnockRequest withDeclaredIpv6(Inet6Address address) {
        return new KnockRequest(grants, durationSeconds, declaredIpv4, Optional.of(address));
    }
}
