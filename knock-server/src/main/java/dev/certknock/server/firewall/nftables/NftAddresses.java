package dev.certknock.server.firewall.nftables;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** Address text in and out of nft: canonical RFC 5952 IPv6, literals only, never a name look-up. */
final class NftAddresses {

    private static final Pattern LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|[0-9A-Fa-f.]{0,40}:[0-9A-Fa-f:.]{1,44}");

    private NftAddresses() {
    }

    static Inet6Address withoutScope(Inet6Address address) {
        try {
            return (Inet6Address) InetAddress.getByAddress(address.getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 16-byte address was refused", e);
        }
    }

    /**
     * Parses an address literal printed by nft.
     *
     * @throws IllegalArgumentException when the text is not an IPv4 or IPv6 literal
     */
    static InetAddress parse(String text) {
        if (text == null || !LITERAL.matcher(text).matches()) {
            throw new IllegalArgumentException("not an address literal: " + text);
        }
        try {
            return InetAddress.getByName(text); // a literal: no name service is consulted
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address literal: " + text, e);
        }
    }
}
