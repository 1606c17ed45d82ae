package dev.certknock.server.ratelimit;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * Whom a datagram is accounted to: its IPv4 address (/32) or its IPv6 /64 prefix (one customer's subnet,
 * so a host cannot pose as 2^64 sources).
 */
public record SourceKey(boolean v6, long bits) {

    public static SourceKey of(InetAddress a) {
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            return new SourceKey(false, ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8)
                    | (b[3] & 0xFFL));
        }
        long prefix = 0;
        for (int i = 0; i < 8; i++) {
            prefix = (prefix << 8) | (b[i] & 0xFF);
        }
        return new SourceKey(true, prefix);
    }
}
