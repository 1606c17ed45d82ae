package dev.certknock.protocol.grant;

import static dev.certknock.protocol.grant.Der.bytes;
import static dev.certknock.protocol.grant.Der.ctx;
import static dev.certknock.protocol.grant.Der.enumerated;
import static dev.certknock.protocol.grant.Der.grant;
import static dev.certknock.protocol.grant.Der.integer;
import static dev.certknock.protocol.grant.Der.octets;
import static dev.certknock.protocol.grant.Der.seq;
import static dev.certknock.protocol.grant.Der.tlv;
import static dev.certknock.protocol.grant.Der.utf8;
import static dev.certknock.protocol.grant.Der.withSsh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every way the decoder must refuse an extension value, each with the message that says what and where. */
class GrantsExtensionMalformedTest {

    static final String GOLDEN =
            "302F301530060A0106020116300B0A011102021F4002021FA48002012CA1120C106777312E6578616D706C652E74657374";

    private static final String IPV4_SOURCE = octets("C6336400FFFFFF00");

    static Stream<Arguments> malformed() {
        List<Arguments> cases = new ArrayList<>();
        // framing and DER
        cases.add(arguments("empty input", "", "the value is empty"));
        cases.add(arguments("trailing byte", GOLDEN + "00", "1 trailing byte after the end of the encoding at byte offset 49"));
        cases.add(arguments("trailing object", GOLDEN + "0500", "2 trailing bytes after the end of the encoding at byte offset 49"));
        cases.add(arguments("truncated", GOLDEN.substring(0, GOLDEN.length() - 2), "CertknockGrants: not valid DER"));
        cases.add(arguments("length beyond the input", "30FF", "CertknockGrants: not valid DER"));
        cases.add(arguments("five-byte length", "3085000000000100", "CertknockGrants: not valid DER"));
        cases.add(arguments("garbage", "FFFFFFFF", "CertknockGrants: not valid DER"));
        cases.add(arguments("end-of-contents only", "0000", "CertknockGrants: not valid DER"));
        cases.add(arguments("non-minimal length", "30812F" + GOLDEN.substring(4), "CertknockGrants: not DER: byte offset 1"));
        cases.add(arguments("indefinite length", "3080" + GOLDEN.substring(4) + "0000", "CertknockGrants: not DER: byte offset 1"));
        cases.add(arguments("INTEGER with a leading zero", seq(seq(seq(enumerated(6), tlv(0x02, "0016")))),
                "CertknockGrants: not valid DER: malformed integer"));
        cases.add(arguments("constructed OCTET STRING source",
                withSsh(ctx(2, true, tlv(0x24, octets("C6336400"), octets("FFFFFF00")))), "not DER"));
        cases.add(arguments("constructed UTF8String server",
                withSsh(ctx(1, true, tlv(0x2C, utf8("gw1"), utf8(".test")))), "CertknockGrants: not valid DER: unknown tag 12"));

        // CertknockGrants
        cases.add(arguments("SET instead of SEQUENCE", tlv(0x31, seq(grant(6, 22))), "CertknockGrants: expected a SEQUENCE, found SET"));
        cases.add(arguments("bare INTEGER", integer(22), "CertknockGrants: expected a SEQUENCE, found INTEGER"));
        cases.add(arguments("empty SEQUENCE", "3000", "CertknockGrants: the SEQUENCE is empty: the grants field is required"));
        cases.add(arguments("grants missing", seq(ctx(0, false, "012C")),
                "grants: expected the SEQUENCE OF PortGrant as the first field, found [0]"));
        cases.add(arguments("unknown field [3]", withSsh(ctx(3, false, "01")),
                "CertknockGrants field 2: unknown field [3]: CertknockGrants has only [0] maxOpenSeconds, [1] servers and [2] sources"));
        cases.add(arguments("APPLICATION tag", withSsh(tlv(0x40, "01")),
                "CertknockGrants field 2: expected [0] maxOpenSeconds, [1] servers or [2] sources, found [APPLICATION 0]"));
        cases.add(arguments("PRIVATE tag", withSsh(tlv(0xC0, "012C")), "found [PRIVATE 0]"));
        cases.add(arguments("universal INTEGER field", withSsh(integer(300)),
                "CertknockGrants field 2: expected [0] maxOpenSeconds, [1] servers or [2] sources, found INTEGER"));
        cases.add(arguments("second grants list", withSsh(seq(grant(17, 53))),
                "CertknockGrants field 2: expected [0] maxOpenSeconds, [1] servers or [2] sources, found SEQUENCE"));
        cases.add(arguments("[0] repeated", withSsh(ctx(0, false, "012C"), ctx(0, false, "012C")),
                "CertknockGrants field 3: [0] maxOpenSeconds appears a second time"));
        cases.add(arguments("[1] before [0]", withSsh(ctx(1, true, utf8("gw1")), ctx(0, false, "012C")),
                "CertknockGrants field 3: [0] maxOpenSeconds comes after [1] servers: the fields must be in the order [0], [1], [2]"));
        cases.add(arguments("[2] before [1]", withSsh(ctx(2, true, IPV4_SOURCE), ctx(1, true, utf8("gw1"))),
                "CertknockGrants field 3: [1] servers comes after [2] sources"));

        // grants
        cases.add(arguments("empty grants", seq(seq()), "grants: the list is empty: a certificate must grant at least one port"));
        cases.add(arguments("65 grants", seq(seq(grant(6, 22).repeat(65))), "grants: 65 entries, more than the limit of 64"));
        cases.add(arguments("grant is an INTEGER", seq(seq(grant(6, 22), integer(22))),
                "grant 2: expected a SEQUENCE (PortGrant), found INTEGER"));
        cases.add(arguments("grant with one field", seq(seq(seq(enumerated(6)))),
                "grant 1: expected 2 or 3 fields (protocol, firstPort, optional lastPort), found 1"));
        cases.add(arguments("grant with four fields", seq(seq(seq(enumerated(6), integer(1), integer(2), integer(3)))),
                "grant 1: expected 2 or 3 fields (protocol, firstPort, optional lastPort), found 4"));
        cases.add(arguments("protocol as INTEGER", seq(seq(seq(integer(6), integer(22)))),
                "grant 1: protocol: expected ENUMERATED, found INTEGER"));
        cases.add(arguments("unknown protocol 7", seq(seq(grant(6, 22), grant(7, 22))),
                "grant 2: unknown protocol 7: only tcp(6) and udp(17) are defined"));
        cases.add(arguments("protocol ICMP", seq(seq(grant(1, 22))), "grant 1: unknown protocol 1"));
        cases.add(arguments("protocol 2^40+6", seq(seq(seq(tlv(0x0A, "010000000006"), integer(22)))),
                "grant 1: unknown protocol 1099511627782"));
        // Bouncy Castle reads ENUMERATED FA as 250 and re-encodes it as 00FA: the DER comparison catches it.
        cases.add(arguments("negative protocol", seq(seq(seq(tlv(0x0A, "FA"), integer(22)))), "CertknockGrants: not DER: byte offset 1"));
        cases.add(arguments("firstPort as ENUMERATED", seq(seq(seq(enumerated(6), enumerated(22)))),
                "grant 1: firstPort: expected INTEGER, found ENUMERATED"));
        cases.add(arguments("lastPort as UTF8String", seq(seq(seq(enumerated(6), integer(22), utf8("23")))),
                "grant 1: lastPort: expected INTEGER, found UTF8String"));
        cases.add(arguments("firstPort 0", seq(seq(grant(6, 0))), "grant 1: firstPort 0 is outside 1-65535"));
        cases.add(arguments("firstPort -1", seq(seq(grant(6, -1))), "grant 1: firstPort -1 is outside 1-65535"));
        cases.add(arguments("firstPort 65536", seq(seq(grant(17, 65536))), "grant 1: firstPort 65536 is outside 1-65535"));
        cases.add(arguments("firstPort 2^64", seq(seq(seq(enumerated(6), tlv(0x02, "010000000000000000")))),
                "grant 1: firstPort (a 65-bit number) is outside 1-65535"));
        cases.add(arguments("lastPort 70000", seq(seq(grant(6, 22, 70000))), "grant 1: lastPort 70000 is outside 1-65535"));
        cases.add(arguments("lastPort 0", seq(seq(grant(6, 22, 0))), "grant 1: lastPort 0 is outside 1-65535"));
        cases.add(arguments("lastPort below firstPort", seq(seq(grant(6, 80), grant(6, 22, 21))),
                "grant 2: lastPort 21 is lower than firstPort 22"));

        // [0] maxOpenSeconds
        cases.add(arguments("maxOpenSeconds 0", withSsh(ctx(0, false, "00")), "maxOpenSeconds: 0 is outside 1-86400"));
        cases.add(arguments("maxOpenSeconds -5", withSsh(ctx(0, false, "FB")), "maxOpenSeconds: -5 is outside 1-86400"));
        cases.add(arguments("maxOpenSeconds 86401", withSsh(ctx(0, false, "015181")), "maxOpenSeconds: 86401 is outside 1-86400"));
        cases.add(arguments("maxOpenSeconds 2^72", withSsh(ctx(0, false, "01000000000000000000")),
                "maxOpenSeconds: (a 73-bit number) is outside 1-86400 (one second to one day)"));
        cases.add(arguments("maxOpenSeconds with no content", withSsh(ctx(0, false)), "[0] maxOpenSeconds: not an INTEGER"));
        cases.add(arguments("maxOpenSeconds explicitly tagged", withSsh(ctx(0, true, integer(300))),
                "[0] maxOpenSeconds: expected a primitive INTEGER with an implicit tag, found a constructed encoding"));

        // [1] servers
        cases.add(arguments("servers empty", withSsh(ctx(1, true)),
                "[1] servers: the list is empty: omit the field to allow any server"));
        cases.add(arguments("servers primitive", withSsh(ctx(1, false, "677731")),
                "[1] servers: expected a SEQUENCE OF UTF8String with an implicit tag (constructed), found a primitive encoding"));
        cases.add(arguments("servers explicitly tagged SEQUENCE", withSsh(ctx(1, true, seq(utf8("gw1")))),
                "server 1: expected UTF8String, found SEQUENCE"));
        cases.add(arguments("server as IA5String", withSsh(ctx(1, true, utf8("gw1"), tlv(0x16, "677732"))),
                "server 2: expected UTF8String, found IA5String"));
        cases.add(arguments("server as PrintableString", withSsh(ctx(1, true, tlv(0x13, "677731"))),
                "server 1: expected UTF8String, found PrintableString"));
        cases.add(arguments("server name empty", withSsh(ctx(1, true, utf8(""))), "server 1: the name is empty"));
        cases.add(arguments("server name with newline", withSsh(ctx(1, true, utf8("gw\n1"))),
                "server 1: control character U+000A at index 2"));
        cases.add(arguments("server name with DEL", withSsh(ctx(1, true, utf8("gw1"), utf8("gw\u007F"))),
                "server 2: control character U+007F at index 2"));
        cases.add(arguments("server name with C1 control", withSsh(ctx(1, true, utf8("\u0085gw"))),
                "server 1: control character U+0085 at index 0"));
        cases.add(arguments("server name not UTF-8", withSsh(ctx(1, true, tlv(0x0C, "67C328"))),
                "server 1: the UTF8String is not valid UTF-8"));
        cases.add(arguments("server name overlong UTF-8", withSsh(ctx(1, true, tlv(0x0C, "C0AF"))),
                "server 1: the UTF8String is not valid UTF-8"));
        cases.add(arguments("server name UTF-8 surrogate", withSsh(ctx(1, true, tlv(0x0C, "EDA080"))),
                "server 1: the UTF8String is not valid UTF-8"));
        cases.add(arguments("server name 254 characters", withSsh(ctx(1, true, utf8("a".repeat(254)))),
                "server 1: the name is 254 characters long, more than the limit of 253"));
        cases.add(arguments("33 servers", withSsh(ctx(1, true, utf8("gw").repeat(33))),
                "[1] servers: 33 entries, more than the limit of 32"));

        // [2] sources
        cases.add(arguments("sources empty", withSsh(ctx(2, true)),
                "[2] sources: the list is empty: omit the field to allow any source"));
        cases.add(arguments("sources primitive", withSsh(ctx(2, false, "C6336400FFFFFF00")),
                "[2] sources: expected a SEQUENCE OF OCTET STRING with an implicit tag (constructed), found a primitive encoding"));
        cases.add(arguments("source as UTF8String", withSsh(ctx(2, true, IPV4_SOURCE, utf8("198.51.100.0/24"))),
                "source 2: expected OCTET STRING, found UTF8String"));
        cases.add(arguments("source of 7 bytes", withSsh(ctx(2, true, octets("C6336400FFFFFF"))),
                "source 1: 7 bytes: expected 8 (IPv4 address and netmask) or 32 (IPv6 address and netmask)"));
        cases.add(arguments("source of 16 bytes", withSsh(ctx(2, true, octets("20010DB8000000000000000000000000"))),
                "source 1: 16 bytes: expected 8"));
        cases.add(arguments("source of 0 bytes", withSsh(ctx(2, true, octets(""))), "source 1: 0 bytes: expected 8"));
        cases.add(arguments("IPv4 netmask not contiguous", withSsh(ctx(2, true, octets("C6330000FFFF00FF"))),
                "source 1: netmask 255.255.0.255 is not contiguous: it must be one bits followed only by zero bits"));
        cases.add(arguments("IPv4 netmask with a hole", withSsh(ctx(2, true, IPV4_SOURCE, octets("00000000BFFFFFFF"))),
                "source 2: netmask 191.255.255.255 is not contiguous"));
        cases.add(arguments("IPv6 netmask not contiguous", withSsh(ctx(2, true,
                        octets("20010DB8000000000000000000000000" + "FFFFFFFF000000000000000000000001"))),
                "source 1: netmask ffff:ffff::1 is not contiguous"));
        cases.add(arguments("IPv4 host bits set", withSsh(ctx(2, true, octets("C6336405FFFFFF00"))),
                "source 1: 198.51.100.5/24 has host bits set beyond the prefix: use the network address instead, 198.51.100.0/24"));
        cases.add(arguments("IPv6 host bits set", withSsh(ctx(2, true,
                        octets("20010DB8000000000000000000000001" + "FFFFFFFF000000000000000000000000"))),
                "source 1: 2001:db8::1/32 has host bits set beyond the prefix: use the network address instead, 2001:db8::/32"));
        cases.add(arguments("33 sources", withSsh(ctx(2, true, IPV4_SOURCE.repeat(33))),
                "[2] sources: 33 entries, more than the limit of 32"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void refusesWithAMessageThatSaysWhatAndWhere(String name, String hex, String expectedMessage) {
        assertThatThrownBy(() -> GrantsExtension.decode(bytes(hex)))
                .isInstanceOf(GrantsFormatException.class)
                .hasMessageContaining(expectedMessage);
    }

    @Test
    void refusesNull() {
        assertThatThrownBy(() -> GrantsExtension.decode(null))
                .isInstanceOf(GrantsFormatException.class)
                .hasMessage("CertknockGrants: no value (null)");
    }

    @Test
    void refusesInputOverTheLengthCapBeforeParsingIt() {
        byte[] tooLong = Arrays.copyOf(bytes(GOLDEN), GrantsExtension.MAX_ENCODED_LENGTH + 1);
        assertThatThrownBy(() -> GrantsExtension.decode(tooLong))
                .isInstanceOf(GrantsFormatException.class)
                .hasMessage("CertknockGrants: 8193 bytes, more than the limit of 8192");
    }

    @Test
    void refusesDeepNestingWithoutExhaustingTheStack() {
        // 4095 nested SEQUENCEs in 8190 bytes of indefinite-length BER: Bouncy Castle stops at 64 levels.
        int depth = 2046;
        String deep = "3080".repeat(depth) + "0000".repeat(depth);
        assertThatThrownBy(() -> GrantsExtension.decode(bytes(deep)))
                .isInstanceOf(GrantsFormatException.class)
                .hasMessageContaining("maximum nested construction level reached");
    }

    @Test
    void refusesANonMinimalIntegerEvenWhenBouncyCastleIsToldToAcceptIt() {
        String leadingZeroPort = seq(seq(seq(enumerated(6), tlv(0x02, "0016"))));
        Properties.setThreadOverride("org.bouncycastle.asn1.allow_unsafe_integer", true);
        try {
            assertThatThrownBy(() -> GrantsExtension.decode(bytes(leadingZeroPort)))
                    .isInstanceOf(GrantsFormatException.class)
                    .hasMessageContaining("CertknockGrants: not DER: byte offset 1 differs from the DER encoding of the same value");
        } finally {
            Properties.removeThreadOverride("org.bouncycastle.asn1.allow_unsafe_integer");
        }
    }

    @Test
    void acceptsTheLimitsThemselves() throws GrantsFormatException {
        String atLimits = seq(seq(grant(6, 1, 65535).repeat(64)),
                ctx(0, false, "015180"),
                ctx(1, true, utf8("a".repeat(253)), utf8("b".repeat(200)).repeat(31)),
                ctx(2, true, IPV4_SOURCE.repeat(32)));
        CertknockGrants decoded = GrantsExtension.decode(bytes(atLimits));
        assertThat(decoded.grants()).hasSize(64);
        assertThat(decoded.maxOpenSeconds()).hasValue(86400);
        assertThat(decoded.servers()).hasSize(32).first().asString().hasSize(253);
        assertThat(decoded.sources()).hasSize(32);
    }
}
