package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * The key of one set element: one source address, one protocol and one port range, as
 * {@code 198.51.100.7 . tcp . 8000-8100}. Port ranges go to the interval sets {@code allow4} (IPv4) and
 * {@code allow6} (IPv6); single ports to the hash sets {@code allow4_port} and {@code allow6_port}, where adding
 * an element costs the same however many are open (an interval set makes nft read the set's elements to
 * check for overlaps on every add).
 */
public record NftElement(InetAddress address, PortGrant ports) {

    /** Name of the IPv4 grant set. */
    public static final String SET4 = "allow4";
    /** Name of the IPv6 grant set. */
    public static final String SET6 = "allow6";
    /** Name of the IPv4 single-port grant set (a hash set: no interval flag). */
    public static final String PORT_SET4 = "allow4_port";
    /** Name of the IPv6 single-port grant set (a hash set: no interval flag). */
    public static final String PORT_SET6 = "allow6_port";
    /** Every grant set, in the order the renderer declares them. */
    public static final List<String> SETS = List.of(SET4, SET6, PORT_SET4, PORT_SET6);

    public NftElement {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(ports, "ports");
        if (address instanceof Inet6Address v6) {
            // The key is the address alone: drop any zone (%eth0) so equal addresses compare equal.
            address = NftAddresses.withoutScope(v6);
        }
    }

    /** The set this element is added to: by family, and single port or range. */
    public String set() {
        boolean v4 = address instanceof Inet4Address;
        if (ports.isSinglePort()) {
            return v4 ? PORT_SET4 : PORT_SET6;
        }
        return v4 ? SET4 : SET6;
    }

    /**
     * Every set this element may be found in: its own, and for a single port also the interval set of its family,
     * where versions before the single-port sets put every element (so a revocation after an upgrade still finds
     * what was opened before it).
     */
    public List<String> setsToSearch() {
        if (!ports.isSinglePort()) {
            return List.of(set());
        }
        return List.of(set(), address instanceof Inet4Address ? SET4 : SET6);
    }

    /** Whether this element belongs in the named set (its own, or a legacy place from {@link #setsToSearch}). */
    public boolean mayBeIn(String setName) {
        return setsToSearch().contains(setName);
    }

    /** The element's key in nft syntax, for example {@code 2001:db8::7 . udp . 8000-8100}. */
    public String text() {
        String portText = ports.isSinglePort() ? Integer.toString(ports.firstPort())
                : ports.firstPort() + "-" + ports.lastPort();
        return AddressText.format(address) + " . " + ports.protocol().label() + " . " + portText;
    }

    @Override
    public String toString() {
        return text();
    }
}
