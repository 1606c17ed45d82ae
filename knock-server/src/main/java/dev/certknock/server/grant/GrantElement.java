package dev.certknock.server.grant;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import java.net.InetAddress;
import java.util.Objects;

/**
 * One thing a firewall holds open: one address, one protocol, one port or port range. A grant of three port
 * ranges to one address is three elements; two certificates that grant the same port to the same address share
 * one element.
 */
public record GrantElement(InetAddress address, PortGrant ports) {

    public GrantElement {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(ports, "ports");
    }

    @Override
    public String toString() {
        return AddressText.format(address) + " " + ports;
    }
}
