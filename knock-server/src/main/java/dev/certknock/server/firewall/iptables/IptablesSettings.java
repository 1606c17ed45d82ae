package dev.certknock.server.firewall.iptables;

import dev.certknock.protocol.grant.PortGrant;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the {@code iptables} backend.
 *
 * @param knockPort        the UDP port knocks arrive on; dropped, so the host never answers it
 * @param protectedPorts   dropped (or rejected) unless granted; must not be empty
 * @param reject           reject protected ports (TCP reset, ICMP port unreachable) instead of dropping them
 * @param ipv6             also set up ip6tables and the IPv6 set (false on hosts without IPv6)
 * @param maxPortsPerGrant most ports one element (port range) may cover (ipset stores one entry per port); a
 *                         larger range is refused with a clear error
 * @param maxElements      capacity of each ipset ({@code maxelem}); fixed when the set is first created
 */
public record IptablesSettings(int knockPort, List<PortGrant> protectedPorts, boolean reject, boolean ipv6,
        int maxPortsPerGrant, int maxElements) {

    public static final int DEFAULT_MAX_PORTS_PER_GRANT = 1024;
    public static final int DEFAULT_MAX_ELEMENTS = 65536;

    public IptablesSettings {
        if (knockPort < PortGrant.MIN_PORT || knockPort > PortGrant.MAX_PORT) {
            throw new IllegalArgumentException("knock port " + knockPort + " is outside 1-65535");
        }
        protectedPorts = List.copyOf(Objects.requireNonNull(protectedPorts, "protectedPorts"));
        if (protectedPorts.isEmpty()) {
            throw new IllegalArgumentException("the iptables backend needs at least one protected port");
        }
        if (maxPortsPerGrant < 1 || maxPortsPerGrant > PortGrant.MAX_PORT) {
            throw new IllegalArgumentException("maxPortsPerGrant must be 1-65535, not " + maxPortsPerGrant);
        }
        if (maxElements < 1) {
            throw new IllegalArgumentException("maxElements must be at least 1, not " + maxElements);
        }
    }

    /** Drop, IPv4 and IPv6, 1024 ports per element, 65536 entries per set. */
    public static IptablesSettings of(int knockPort, List<PortGrant> protectedPorts) {
        return new IptablesSettings(knockPort, protectedPorts, false, true, DEFAULT_MAX_PORTS_PER_GRANT,
                DEFAULT_MAX_ELEMENTS);
    }

    public IptablesSettings withReject(boolean value) {
        return new IptablesSettings(knockPort, protectedPorts, value, ipv6, maxPortsPerGrant, maxElements);
    }

    public IptablesSettings withIpv6(boolean value) {
        return new IptablesSettings(knockPort, protectedPorts, reject, value, maxPortsPerGrant, maxElements);
    }

    public IptablesSettings withMaxPortsPerGrant(int value) {
        return new IptablesSettings(knockPort, protectedPorts, reject, ipv6, value, maxElements);
    }

    public IptablesSettings withMaxElements(int value) {
        return new IptablesSettings(knockPort, protectedPorts, reject, ipv6, maxPortsPerGrant, value);
    }
}
