package dev.certknock.protocol.grant;

import java.net.InetAddress;

/**
 * The one address formatter of certknock: dotted quad for IPv4, RFC 5952 text for IPv6 (lower case, no leading
 * zeros, the longest run of two or more zero groups as {@code ::}, the first of equal runs). It is what nft, ipset
 * and iptables print, so text written by certknock and text read back from the kernel compare equal. Never a name
 * look-up, never a zone.
 */
public final class AddressText {

    private AddressText() {
    }

    /** The text of an address. */
    public static String format(InetAddress address) {
        return format(address.getAddress());
    }

    /** Dotted quad for 4 bytes; RFC 5952 text (lower case, longest zero run as {@code ::}) for 16 bytes. */
    public static String format(byte[] address) {
        if (address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + address.length);
        }
        if (address.length == 4) {
            return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "." + (address[3] & 0xff);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((address[2 * i] & 0xff) << 8) | (address[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // RFC 5952 4.2.2: a single zero group is not shortened
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int end = i;
            while (end < 8 && groups[end] == 0) {
                end++;
            }
            if (end - i > bestLength) {
                bestStart = i;
                bestLength = end - i;
            }
            i = end;
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
