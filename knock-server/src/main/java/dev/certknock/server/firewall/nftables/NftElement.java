package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * The key of one set element: one source address, one protocol and one port range, as
 * {@code 198.51.100.7 . tcp . 8000-8100}. IPv4 addresses go to {@code allow4}, IPv6 to {@code allow6}.
 */
public record NftElement(InetAddress address, PortGrant ports) {

    /** Name of the IPv4 grant set. */
    public static final String SET4 = "allow4";
    /** Name of the IPv6 grant set. */
    public static final String SET6 = "allow6";

    public NftElement {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(ports, "ports");
        if (address instanceof Inet6Address v6) {
            // The key is the address alone: drop any zone (%eth0) so equal addresses compare equal.
            address = NftAddresses.withoutScope(v6);
        }
    }

    /** {@code allow4} or {@code allow6}. */
    public String set() {
        return address instanceof Inet4Address ? SET4 : SET6;
    }

    /** The element's key in nft syntax, for example {@code 2001:db8::7 . udp . 8000-8100}. */
    public String text() {
        String portText = ports.isSinglePort() ? Integer.toString(ports.firstPort())
                : ports.firstPort() + "-" + ports.lastPort();
        return NftAddresses.format(address) + " . " + ports.protocol().label() + " . " + portText;
    }

    @Override
    public String toString() {
        return text();
    }
}
