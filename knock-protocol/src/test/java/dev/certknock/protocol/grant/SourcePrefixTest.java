package dev.certknock.protocol.grant;

import static dev.certknock.protocol.grant.Der.bytes;
import static dev.certknock.protocol.grant.Der.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SourcePrefixTest {

    private static InetAddress address(String literal) throws Exception {
        // Literals only: getByName does not resolve these.
        return InetAddress.getByName(literal);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            203.0.113.0/24             | 203.0.113.0/24  | 24  | false
            203.0.113.7                | 203.0.113.7/32  | 32  | false
            0.0.0.0/0                  | 0.0.0.0/0       | 0   | false
            255.255.255.255/32         | 255.255.255.255/32 | 32 | false
            ' 198.51.100.0/24 '        | 198.51.100.0/24 | 24  | false
            2001:db8::/32              | 2001:db8::/32   | 32  | true
            2001:DB8:0:0:0:0:0:0/32    | 2001:db8::/32   | 32  | true
            2001:db8::1                | 2001:db8::1/128 | 128 | true
            ::/0                       | ::/0            | 0   | true
            ::1                        | ::1/128         | 128 | true
            fe80::/10                  | fe80::/10       | 10  | true
            2001:db8:0:1:0:0:0:0/64    | 2001:db8:0:1::/64 | 64 | true
            2001:0:0:1:0:0:0:0/64      | 2001:0:0:1::/64 | 64  | true
            2001:db8:0:0:1:0:0:1       | 2001:db8::1:0:0:1/128 | 128 | true
            2001:db8:1:2:3:4:5:0/112   | 2001:db8:1:2:3:4:5:0/112 | 112 | true
            ::ffff:198.51.100.0/120    | ::ffff:c633:6400/120 | 120 | true
            """)
    void parsesAndPrintsCidr(String text, String cidr, int prefixLength, boolean ipv6) {
        SourcePrefix prefix = SourcePrefix.parse(text);

        assertThat(prefix.toString()).isEqualTo(cidr);
        assertThat(prefix.prefixLength()).isEqualTo(prefixLength);
        assertThat(prefix.isIpv6()).isEqualTo(ipv6);
        assertThat(prefix.network()).isInstanceOf(ipv6 ? Inet6Address.class : Inet4Address.class);
        assertThat(SourcePrefix.parse(prefix.toString())).isEqualTo(prefix);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                      | is not an IPv4 or IPv6 address
            gw1.example.test        | is not an IPv4 or IPv6 address
            localhost/32            | is not an IPv4 or IPv6 address
            203.0.113               | is not an IPv4 or IPv6 address
            203.0.113.0.1           | is not an IPv4 or IPv6 address
            203.0.113.256/24        | has 256 in an IPv4 address: each of the four numbers is 0-255
            203.0.113.-1            | is not an IPv4 or IPv6 address
            203.0.113.010           | has a number with a leading zero ('010')
            0x7f.0.0.1              | is not an IPv4 or IPv6 address
            203.0.113.0/            | has no valid prefix length after '/': write a number from 0 to 32
            203.0.113.0/abc         | has no valid prefix length after '/'
            203.0.113.0/24/8        | has no valid prefix length after '/'
            203.0.113.0/-1          | has no valid prefix length after '/'
            203.0.113.0/33          | prefix length 33 is outside 0-32 for IPv4 network 203.0.113.0
            203.0.113.0/0024        | has no valid prefix length after '/'
            2001:db8::/129          | prefix length 129 is outside 0-128 for IPv6 network 2001:db8::
            2001:db8::/             | write a number from 0 to 128, e.g. 2001:db8::/32
            2001:db8::zz/32         | is not an IPv6 address ('z' is not allowed
            2001:db8:::/32          | is not an IPv6 address
            2001:db8::1%eth0        | zone ids like %eth0 are not accepted
            [2001:db8::]/32         | is not an IPv6 address ('[' is not allowed
            203.0.113.5/24          | 203.0.113.5/24 has host bits set beyond the prefix: use the network address instead, 203.0.113.0/24
            10.1.2.3/8              | use the network address instead, 10.0.0.0/8
            2001:db8::1/32          | 2001:db8::1/32 has host bits set beyond the prefix: use the network address instead, 2001:db8::/32
            2001:db8:ffff::/31      | use the network address instead, 2001:db8::/31
            """)
    void refusesBadTextWithAMessageThatSaysWhatToWrite(String text, String message) {
        assertThatThrownBy(() -> SourcePrefix.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void neverResolvesHostNames() {
        // "localhost" would resolve if the parser fell back to a name lookup.
        assertThatThrownBy(() -> SourcePrefix.parse("localhost"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("host names are not accepted");
    }

    @Test
    void containsAddressesOfItsFamilyOnly() throws Exception {
        SourcePrefix v4 = SourcePrefix.parse("203.0.113.0/24");
        SourcePrefix v6 = SourcePrefix.parse("2001:db8::/32");
        SourcePrefix mapped = SourcePrefix.parse("::ffff:203.0.113.0/120");

        assertThat(v4.contains(address("203.0.113.0"))).isTrue();
        assertThat(v4.contains(address("203.0.113.255"))).isTrue();
        assertThat(v4.contains(address("203.0.112.255"))).isFalse();
        assertThat(v4.contains(address("203.0.114.0"))).isFalse();
        assertThat(v4.contains(address("2001:db8::1"))).isFalse();

        assertThat(v6.contains(address("2001:db8::1"))).isTrue();
        assertThat(v6.contains(address("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
        assertThat(v6.contains(address("2001:db9::"))).isFalse();
        assertThat(v6.contains(address("203.0.113.1"))).isFalse();
        assertThat(v6.contains(address("fe80::1%1"))).isFalse();
        assertThat(SourcePrefix.parse("fe80::/10").contains(address("fe80::1%1"))).isTrue();

        // The JDK turns ::ffff:a.b.c.d into an IPv4 address; an IPv6 prefix still never matches IPv4.
        assertThat(mapped.contains(address("203.0.113.9"))).isFalse();
    }

    @Test
    void zeroLengthPrefixesContainTheirWholeFamily() throws Exception {
        assertThat(SourcePrefix.parse("0.0.0.0/0").contains(address("255.255.255.255"))).isTrue();
        assertThat(SourcePrefix.parse("::/0").contains(address("ffff::1"))).isTrue();
        assertThat(SourcePrefix.parse("::/0").contains(address("192.0.2.1"))).isFalse();
    }

    @Test
    void singleHostContainsOnlyItself() throws Exception {
        SourcePrefix host = SourcePrefix.parse("192.0.2.77");
        assertThat(host.contains(address("192.0.2.77"))).isTrue();
        assertThat(host.contains(address("192.0.2.76"))).isFalse();
        assertThat(host.contains(address("192.0.2.78"))).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            203.0.113.0/24     | CB007100FFFFFF00
            0.0.0.0/0          | 0000000000000000
            192.0.2.77         | C000024DFFFFFFFF
            10.0.0.0/9         | 0A000000FF800000
            2001:db8::/32      | 20010DB8000000000000000000000000FFFFFFFF000000000000000000000000
            ::/0               | 0000000000000000000000000000000000000000000000000000000000000000
            2001:db8::1        | 20010DB8000000000000000000000001FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
            2001:db8:8000::/33 | 20010DB8800000000000000000000000FFFFFFFF800000000000000000000000
            """)
    void encodesAsRfc5280AddressAndMaskAndDecodesBack(String text, String hex) {
        SourcePrefix prefix = SourcePrefix.parse(text);

        assertThat(hex(prefix.encodedAddressAndMask())).isEqualTo(hex);
        assertThat(SourcePrefix.decode(bytes(hex))).isEqualTo(prefix);
    }

    @Test
    void encodedFormIsACopy() {
        SourcePrefix prefix = SourcePrefix.parse("203.0.113.0/24");
        prefix.encodedAddressAndMask()[0] = 0;
        assertThat(prefix.toString()).isEqualTo("203.0.113.0/24");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                 | 0 bytes: expected 8 (IPv4 address and netmask) or 32 (IPv6 address and netmask)
            CB007100FFFFFF     | 7 bytes: expected 8
            CB007100FFFFFF0000 | 9 bytes: expected 8
            CB007100FF00FF00   | netmask 255.0.255.0 is not contiguous: it must be one bits followed only by zero bits
            00000001FFFFFFFE   | 0.0.0.1/31 has host bits set beyond the prefix: use the network address instead, 0.0.0.0/31
            00000000FFFFFFFD   | netmask 255.255.255.253 is not contiguous
            CB007101FFFFFF00   | 203.0.113.1/24 has host bits set beyond the prefix: use the network address instead, 203.0.113.0/24
            CB00710000000000   | 203.0.113.0/0 has host bits set beyond the prefix: use the network address instead, 0.0.0.0/0
            20010DB8000000000000000000000000FFFFFFFF0000000000000000000000FF | netmask ffff:ffff::ff is not contiguous
            20010DB8000000000000000000000001FFFFFFFF000000000000000000000000 | use the network address instead, 2001:db8::/32
            """)
    void decodeRefusesMalformedAddressAndMask(String hex, String message) {
        assertThatThrownBy(() -> SourcePrefix.decode(bytes(hex)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void constructorStripsHostNamesAndScopes() throws Exception {
        InetAddress named = InetAddress.getByAddress("gw1.example.test", new byte[] {(byte) 203, 0, 113, 0});
        InetAddress scoped = Inet6Address.getByAddress(null, address("fe80::").getAddress(), 3);

        assertThat(new SourcePrefix(named, 24).network().getHostName()).isEqualTo("203.0.113.0");
        assertThat(new SourcePrefix(scoped, 10).network()).isInstanceOfSatisfying(Inet6Address.class,
                a -> assertThat(a.getScopeId()).isZero());
        assertThat(new SourcePrefix(scoped, 10)).isEqualTo(SourcePrefix.parse("fe80::/10"));
    }

    @Test
    void constructorRefusesHostBitsAndBadLengths() throws Exception {
        assertThatThrownBy(() -> new SourcePrefix(address("198.51.100.1"), 24))
                .hasMessage("198.51.100.1/24 has host bits set beyond the prefix: use the network address instead, 198.51.100.0/24");
        assertThatThrownBy(() -> new SourcePrefix(address("198.51.100.0"), -1))
                .hasMessage("prefix length -1 is outside 0-32 for IPv4 network 198.51.100.0");
        assertThatThrownBy(() -> new SourcePrefix(null, 8)).isInstanceOf(NullPointerException.class);
    }
}
