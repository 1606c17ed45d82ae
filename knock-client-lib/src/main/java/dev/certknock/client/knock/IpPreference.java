package dev.certknock.client.knock;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/** Which address family to knock over when a host name has both. */
public enum IpPreference {
    /** The first address the resolver returns. */
    ANY,
    /** IPv4 only ({@code -4}). */
    IPV4,
    /** IPv6 only ({@code -6}). */
    IPV6;

    boolean accepts(InetAddress address) {
        return switch (this) {
            case ANY -> true;
            case IPV4 -> address instanceof Inet4Address;
            case IPV6 -> address instanceof Inet6Address;
        };
    }
}
