package dev.certknock.protocol.grant;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/**
 * An IPv4 or IPv6 network prefix such as {@code 203.0.113.0/24} or {@code 2001:db8::/32}: the client addresses a
 * certificate may have opened for it.
 *
 * <p>The network address has no bits set beyond the prefix: {@code 203.0.113.5/24} is refused with a message that
 * names {@code 203.0.113.0/24}. The stored {@link #network()} is a plain address: no host name, no IPv6 scope.
 * An IPv6 prefix never contains an IPv4 address and the other way round, IPv4-mapped IPv6 prefixes
 * ({@code ::ffff:0:0/96}) included: the server compares addresses in the family the packet arrived in.
 *
 * <p>In the certificate extension a prefix is encoded as in RFC 5280 iPAddress name constraints: the network address
 * followed by the netmask, 8 bytes for IPv4 and 32 for IPv6 ({@link #encodedAddressAndMask()}, {@link #decode}).
 */
public record SourcePrefix(InetAddress network, int prefixLength) {

    /** Size of an encoded IPv4 prefix: 4 address bytes and 4 netmask bytes. */
    public static final int IPV4_ENCODED_LENGTH = 8;

    /** Size of an encoded IPv6 prefix: 16 address bytes and 16 netmask bytes. */
    public static final int IPV6_ENCODED_LENGTH = 32;

    private static final String SYNTAX =
            "write ADDRESS or ADDRESS/PREFIX-LENGTH, e.g. 203.0.113.0/24 or 2001:db8::/32 (host names are not accepted)";

    public SourcePrefix {
        Objects.requireNonNull(network, "network");
        byte[] address = network.getAddress();
        int bits = address.length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is outside 0-" + bits + " for "
                    + (address.length == 4 ? "IPv4" : "IPv6") + " network " + AddressText.format(address));
        }
        byte[] networkOnly = and(address, netmask(address.length, prefixLength));
        if (!Arrays.equals(networkOnly, address)) {
            throw new IllegalArgumentException(AddressText.format(address) + "/" + prefixLength
                    + " has host bits set beyond the prefix: use the network address instead, "
                    + AddressText.format(networkOnly) + "/" + prefixLength);
        }
        network = plainAddress(address);
    }

    /**
     * Parses {@code 203.0.113.0/24}, {@code 2001:db8::/32}, or a bare address, which means a single host
     * ({@code /32} for IPv4, {@code /128} for IPv6). Only address literals are accepted: this never resolves names.
     * IPv4 addresses are four decimal numbers without leading zeros.
     *
     * @throws IllegalArgumentException with a message that says what is wrong and what is expected
     */
    public static SourcePrefix parse(String text) {
        Objects.requireNonNull(text, "text");
        String trimmed = text.trim();
        int slash = trimmed.indexOf('/');
        String addressText = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] address = parseAddress(addressText, text);
        int bits = address.length * 8;
        int prefixLength = bits;
        if (slash >= 0) {
            String lengthText = trimmed.substring(slash + 1);
            if (lengthText.isEmpty() || lengthText.length() > 3 || !isDigits(lengthText)) {
                throw new IllegalArgumentException("source '" + text + "' has no valid prefix length after '/': "
                        + "write a number from 0 to " + bits + ", e.g. " + (bits == 32 ? "203.0.113.0/24" : "2001:db8::/32"));
            }
            prefixLength = Integer.parseInt(lengthText);
        }
        return new SourcePrefix(plainAddress(address), prefixLength);
    }

    /**
     * Decodes the RFC 5280 form: network address followed by netmask, 8 bytes (IPv4) or 32 bytes (IPv6).
     *
     * @throws IllegalArgumentException when the length is neither 8 nor 32, the netmask is not a run of one bits
     *                                  followed by zero bits, or the address has bits set beyond the netmask
     */
    public static SourcePrefix decode(byte[] addressAndMask) {
        Objects.requireNonNull(addressAndMask, "addressAndMask");
        int length = addressAndMask.length;
        if (length != IPV4_ENCODED_LENGTH && length != IPV6_ENCODED_LENGTH) {
            throw new IllegalArgumentException(length + " bytes: expected " + IPV4_ENCODED_LENGTH
                    + " (IPv4 address and netmask) or " + IPV6_ENCODED_LENGTH + " (IPv6 address and netmask)");
        }
        byte[] address = Arrays.copyOfRange(addressAndMask, 0, length / 2);
        byte[] mask = Arrays.copyOfRange(addressAndMask, length / 2, length);
        int prefixLength = 0;
        while (prefixLength < mask.length * 8 && bit(mask, prefixLength)) {
            prefixLength++;
        }
        if (!Arrays.equals(mask, netmask(mask.length, prefixLength))) {
            throw new IllegalArgumentException("netmask " + AddressText.format(mask)
                    + " is not contiguous: it must be one bits followed only by zero bits");
        }
        return new SourcePrefix(plainAddress(address), prefixLength);
    }

    /** True for an IPv6 prefix, false for IPv4. */
    public boolean isIpv6() {
        return network instanceof Inet6Address;
    }

    /**
     * True when {@code address} lies in this prefix. An address of the other family never does; the IPv6 scope of
     * {@code address} is ignored.
     */
    public boolean contains(InetAddress address) {
        Objects.requireNonNull(address, "address");
        byte[] candidate = address.getAddress();
        byte[] net = network.getAddress();
        if (candidate.length != net.length) {
            return false;
        }
        return Arrays.equals(and(candidate, netmask(net.length, prefixLength)), net);
    }

    /**
     * True when every address of {@code other} lies in this prefix: the same family, a prefix length at least as long,
     * and its network address inside this one. An IPv6 prefix never contains an IPv4 one and the other way round,
     * IPv4-mapped prefixes included.
     */
    public boolean containsPrefix(SourcePrefix other) {
        Objects.requireNonNull(other, "other");
        return isIpv6() == other.isIpv6() && other.prefixLength >= prefixLength && contains(other.network);
    }

    /**
     * The RFC 5280 iPAddress form: network address followed by netmask, 8 bytes for IPv4 and 32 for IPv6.
     * Returns a new array each call.
     */
    public byte[] encodedAddressAndMask() {
        byte[] net = network.getAddress();
        byte[] out = Arrays.copyOf(net, net.length * 2);
        System.arraycopy(netmask(net.length, prefixLength), 0, out, net.length, net.length);
        return out;
    }

    /** CIDR text, {@code 203.0.113.0/24} or {@code 2001:db8::/32} (RFC 5952 form): what {@link #parse} reads. */
    @Override
    public String toString() {
        return AddressText.format(network.getAddress()) + "/" + prefixLength;
    }

    private static byte[] parseAddress(String addressText, String wholeText) {
        if (addressText.indexOf(':') >= 0) {
            return parseIpv6(addressText, wholeText);
        }
        return parseIpv4(addressText, wholeText);
    }

    private static byte[] parseIpv4(String addressText, String wholeText) {
        String[] parts = addressText.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("source '" + wholeText + "' is not an IPv4 or IPv6 address: " + SYNTAX);
        }
        byte[] address = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || !isDigits(part)) {
                throw new IllegalArgumentException("source '" + wholeText + "' is not an IPv4 or IPv6 address: " + SYNTAX);
            }
            if (part.length() > 1 && part.charAt(0) == '0') {
                throw new IllegalArgumentException("source '" + wholeText + "' has a number with a leading zero ('" + part
                        + "'), which some tools read as octal: write it without the leading zero");
            }
            int value = Integer.parseInt(part);
            if (value > 255) {
                throw new IllegalArgumentException("source '" + wholeText + "' has " + value
                        + " in an IPv4 address: each of the four numbers is 0-255");
            }
            address[i] = (byte) value;
        }
        return address;
    }

    private static byte[] parseIpv6(String addressText, String wholeText) {
        for (int i = 0; i < addressText.length(); i++) {
            char c = addressText.charAt(i);
            boolean allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
            if (!allowed) {
                throw new IllegalArgumentException("source '" + wholeText + "' is not an IPv6 address ('" + c
                        + "' is not allowed; zone ids like %eth0 are not accepted): " + SYNTAX);
            }
        }
        InetAddress parsed;
        try {
            // The brackets make the JDK treat the text as an IPv6 literal only: it never falls back to a name lookup.
            parsed = InetAddress.getByName("[" + addressText + "]");
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("source '" + wholeText + "' is not an IPv6 address: " + SYNTAX, e);
        }
        byte[] address = parsed.getAddress();
        if (address.length == 4) {
            // The JDK turns ::ffff:a.b.c.d into an IPv4 address; the text was IPv6, so keep it IPv6.
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(address, 0, mapped, 12, 4);
            return mapped;
        }
        return address;
    }

    private static boolean isDigits(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** An address without host name or scope, of the family its length says (4 or 16 bytes). */
    private static InetAddress plainAddress(byte[] address) {
        try {
            if (address.length == 16) {
                // Inet6Address.getByAddress keeps IPv4-mapped addresses IPv6; InetAddress.getByAddress would not.
                return Inet6Address.getByAddress(null, address, -1);
            }
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("an address is 4 or 16 bytes, not " + address.length, e);
        }
    }

    private static byte[] netmask(int byteLength, int prefixLength) {
        byte[] mask = new byte[byteLength];
        for (int i = 0; i < prefixLength; i++) {
            mask[i / 8] |= (byte) (0x80 >>> (i % 8));
        }
        return mask;
    }

    private static boolean bit(byte[] bytes, int index) {
        return (bytes[index / 8] & (0x80 >>> (index % 8))) != 0;
    }

    private static byte[] and(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] & b[i]);
        }
        return out;
    }
}
