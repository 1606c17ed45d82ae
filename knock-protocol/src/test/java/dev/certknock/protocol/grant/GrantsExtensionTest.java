package dev.certknock.protocol.grant;

import static dev.certknock.protocol.grant.Der.bytes;
import static dev.certknock.protocol.grant.Der.ctx;
import static dev.certknock.protocol.grant.Der.grant;
import static dev.certknock.protocol.grant.Der.hex;
import static dev.certknock.protocol.grant.Der.octets;
import static dev.certknock.protocol.grant.Der.seq;
import static dev.certknock.protocol.grant.Der.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class GrantsExtensionTest {

    /** BRIEF.md section 1, made with the openssl CLI. */
    static final String GOLDEN = GrantsExtensionMalformedTest.GOLDEN;

    /** The value the documented OpenSSL snippet (certknock-client.cnf) produces: the golden vector plus sources. */
    static final String SNIPPET_VALUE = "305D301530060A0106020116300B0A011102021F4002021FA48002012CA1120C106777312E"
            + "6578616D706C652E74657374A22C0408C6336400FFFFFF00042020010DB8000000000000000000000000FFFFFFFF"
            + "000000000000000000000000";

    static CertknockGrants grants(String... ports) {
        return CertknockGrants.of(Stream.of(ports).map(PortGrant::parse).toList());
    }

    static List<SourcePrefix> sources(String... prefixes) {
        return Stream.of(prefixes).map(SourcePrefix::parse).toList();
    }

    @Test
    void goldenVectorDecodesToTheDocumentedGrants() throws GrantsFormatException {
        CertknockGrants decoded = GrantsExtension.decode(bytes(GOLDEN));

        assertThat(decoded.grants()).containsExactly(
                new PortGrant(Protocol.TCP, 22, 22), new PortGrant(Protocol.UDP, 8000, 8100));
        assertThat(decoded.maxOpenSeconds()).isEqualTo(OptionalInt.of(300));
        assertThat(decoded.servers()).containsExactly("gw1.example.test");
        assertThat(decoded.sources()).isEmpty();
    }

    @Test
    void goldenVectorEncodesBackToTheIdenticalBytes() {
        CertknockGrants golden = grants("tcp/22", "udp/8000-8100")
                .withMaxOpenSeconds(300)
                .withServers(List.of("gw1.example.test"));

        assertThat(hex(GrantsExtension.encode(golden))).isEqualTo(GOLDEN);
    }

    @Test
    void snippetValueDecodesWithBothSourceFamilies() throws GrantsFormatException {
        CertknockGrants decoded = GrantsExtension.decode(bytes(SNIPPET_VALUE));

        assertThat(decoded.sources()).extracting(SourcePrefix::toString)
                .containsExactly("198.51.100.0/24", "2001:db8::/32");
        assertThat(hex(GrantsExtension.encode(decoded))).isEqualTo(SNIPPET_VALUE);
    }

    @Test
    void encodesExactlyAsTheModuleSays() {
        // Independent of the codec: built field by field from the ASN.1 module.
        String expected = seq(
                seq(grant(17, 53), grant(6, 8000, 8100)),
                ctx(0, false, "015180"),
                ctx(1, true, utf8("gw1"), utf8("GW2.example")),
                ctx(2, true, octets("CB007100FFFFFF00"),
                        octets("20010DB8000100000000000000000000" + "FFFFFFFFFFFF00000000000000000000")));
        CertknockGrants value = grants("udp/53", "tcp/8000-8100")
                .withMaxOpenSeconds(86400)
                .withServers(List.of("gw1", "GW2.example"))
                .withSources(sources("203.0.113.0/24", "2001:db8:1::/48"));

        assertThat(hex(GrantsExtension.encode(value))).isEqualTo(expected);
    }

    @Test
    void omitsAbsentOptionalFields() {
        assertThat(hex(GrantsExtension.encode(grants("tcp/22")))).isEqualTo(seq(seq(grant(6, 22))));
    }

    static Stream<Arguments> roundTrips() {
        List<Arguments> cases = new ArrayList<>();
        cases.add(arguments("one port", grants("tcp/22")));
        cases.add(arguments("the whole port space", grants("tcp/1-65535", "udp/1-65535")));
        cases.add(arguments("ranges and single ports", grants("udp/8000-8100", "tcp/443", "tcp/65535", "udp/1")));
        cases.add(arguments("overlapping and repeated grants", grants("tcp/22", "tcp/22", "tcp/20-30")));
        cases.add(arguments("maxOpenSeconds 1", grants("tcp/22").withMaxOpenSeconds(1)));
        cases.add(arguments("maxOpenSeconds 86400", grants("tcp/22").withMaxOpenSeconds(86400)));
        cases.add(arguments("maxOpenSeconds 128 (INTEGER needs a zero octet)", grants("tcp/22").withMaxOpenSeconds(128)));
        cases.add(arguments("ports 128 and 32768", grants("tcp/128", "udp/32768-32768", "udp/255-256")));
        cases.add(arguments("servers, mixed case and non-ASCII",
                grants("tcp/22").withServers(List.of("GW1.Example.TEST", "gw-\u00fc.example", "\u4e2d\u6587.example"))));
        cases.add(arguments("IPv6 sources", grants("tcp/22").withSources(
                sources("2001:db8::/32", "2001:db8:1:2:3:4:5:6", "fe80::/10", "::/0", "::ffff:198.51.100.0/120"))));
        cases.add(arguments("IPv4 sources", grants("udp/51820").withSources(
                sources("0.0.0.0/0", "203.0.113.7", "198.51.100.0/24", "10.0.0.0/8", "192.0.2.128/25"))));
        cases.add(arguments("everything", grants("tcp/22", "udp/60000-61000")
                .withMaxOpenSeconds(3600)
                .withServers(List.of("gw1.example.test", "gw2.example.test"))
                .withSources(sources("203.0.113.0/24", "2001:db8::/32"))));
        List<PortGrant> sixtyFour = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            sixtyFour.add(new PortGrant(i % 2 == 0 ? Protocol.TCP : Protocol.UDP, 1000 * i + 1, 1000 * i + 1 + i));
        }
        cases.add(arguments("64 grants", CertknockGrants.of(sixtyFour)));
        List<String> thirtyTwo = new ArrayList<>();
        List<SourcePrefix> thirtyTwoSources = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            thirtyTwo.add("gw" + i + ".example.test");
            thirtyTwoSources.add(SourcePrefix.parse("2001:db8:" + Integer.toHexString(i) + "::/48"));
        }
        cases.add(arguments("32 servers and 32 sources",
                grants("tcp/22").withServers(thirtyTwo).withSources(thirtyTwoSources)));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roundTrips")
    void roundTrips(String name, CertknockGrants value) throws Exception {
        byte[] der = GrantsExtension.encode(value);

        assertThat(GrantsExtension.decode(der)).isEqualTo(value);
        assertThat(GrantsExtension.encode(GrantsExtension.decode(der))).isEqualTo(der);
        // Bouncy Castle reads it as one DER object that re-encodes identically.
        assertThat(ASN1Primitive.fromByteArray(der).getEncoded("DER")).isEqualTo(der);
        GrantsOracle.check(der);
    }

    @Test
    void acceptsALastPortEqualToFirstPortAndEncodesItWithout() throws GrantsFormatException {
        // The module says "present = >= firstPort": an explicit equal lastPort is allowed, and means a single port.
        byte[] explicit = bytes(seq(seq(grant(6, 22, 22))));

        CertknockGrants decoded = GrantsExtension.decode(explicit);

        assertThat(decoded.grants()).containsExactly(PortGrant.single(Protocol.TCP, 22));
        assertThat(hex(GrantsExtension.encode(decoded))).isEqualTo(seq(seq(grant(6, 22))));
    }

    @Test
    void refusesToEncodeWhatDecodersWouldRefuseAsTooLong() {
        List<String> longNames = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            longNames.add(String.valueOf((char) ('a' + i % 26)).repeat(253));
        }
        CertknockGrants tooBig = grants("tcp/22").withServers(longNames);

        assertThatThrownBy(() -> GrantsExtension.encode(tooBig))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("more than the limit of 8192 that decoders accept");
    }

    @Test
    void everySingleByteChangeAndTruncationOfTheSeedsIsDecodedExactlyOrRefused() throws Exception {
        Random random = new Random(20240601);
        for (String seed : List.of(GOLDEN, SNIPPET_VALUE, seq(seq(grant(6, 22, 22), grant(17, 1, 65535))))) {
            byte[] original = bytes(seed);
            for (int length = 0; length <= original.length; length++) {
                GrantsOracle.check(java.util.Arrays.copyOf(original, length));
            }
            for (int i = 0; i < original.length; i++) {
                int[] replacements = {0x00, 0x01, 0x02, 0x7F, 0x80, 0x81, 0xFF,
                        original[i] ^ 0x20, original[i] + 1, original[i] - 1, random.nextInt(256)};
                for (int replacement : replacements) {
                    byte[] mutated = original.clone();
                    mutated[i] = (byte) replacement;
                    GrantsOracle.check(mutated);
                }
            }
        }
    }

    @Test
    void toExtensionIsNonCriticalByDefaultAndWrapsTheEncoding() {
        CertknockGrants value = grants("tcp/22").withMaxOpenSeconds(60);

        Extension extension = GrantsExtension.toExtension(value);

        assertThat(extension.getExtnId()).isEqualTo(CertknockOids.GRANTS_EXTENSION);
        assertThat(extension.isCritical()).isFalse();
        assertThat(extension.getExtnValue().getOctets()).isEqualTo(GrantsExtension.encode(value));
        assertThat(GrantsExtension.toExtension(value, true).isCritical()).isTrue();
    }

    @Nested
    class Certificates {

        private static KeyPair keys;

        @BeforeAll
        static void generateKey() throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            keys = generator.generateKeyPair();
        }

        interface Extensions {
            void addTo(X509v3CertificateBuilder builder) throws Exception;
        }

        private X509Certificate certificate(Extensions extensions) throws Exception {
            X500Name name = new X500Name("CN=alice");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name,
                    keys.getPublic());
            extensions.addTo(builder);
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        }

        @Test
        void absentExtensionIsEmpty() throws Exception {
            X509Certificate certificate = certificate(builder -> { });

            assertThat(GrantsExtension.fromCertificate(certificate)).isEmpty();
            assertThat(GrantsExtension.isCritical(certificate)).isFalse();
        }

        @ParameterizedTest(name = "critical={0}")
        @ValueSource(booleans = {false, true})
        void readsTheExtensionMarkedEitherWay(boolean critical) throws Exception {
            CertknockGrants value = grants("tcp/22", "udp/8000-8100")
                    .withServers(List.of("gw1.example.test"))
                    .withSources(sources("2001:db8::/32", "203.0.113.0/24"));
            X509Certificate certificate = certificate(
                    builder -> builder.addExtension(GrantsExtension.toExtension(value, critical)));

            assertThat(GrantsExtension.fromCertificate(certificate)).contains(value);
            assertThat(GrantsExtension.isCritical(certificate)).isEqualTo(critical);
        }

        @Test
        void malformedExtensionIsAGrantsFormatExceptionThatSaysWhere() throws Exception {
            byte[] badRange = bytes(seq(seq(grant(6, 22), grant(6, 22, 21))));
            X509Certificate certificate = certificate(
                    builder -> builder.addExtension(CertknockOids.GRANTS_EXTENSION, false, badRange));

            assertThatThrownBy(() -> GrantsExtension.fromCertificate(certificate))
                    .isInstanceOf(GrantsFormatException.class)
                    .hasMessage("grants extension: grant 2: lastPort 21 is lower than firstPort 22");
        }
    }

    @Nested
    class ExtensionValueWrapping {

        @Test
        void unwrapsOneDerOctetString() throws GrantsFormatException {
            assertThat(GrantsExtension.unwrapExtensionValue(bytes(octets(GOLDEN)))).isEqualTo(bytes(GOLDEN));
        }

        static Stream<Arguments> badWrappings() {
            return Stream.of(
                    arguments("empty", "", "extension value: empty"),
                    arguments("not an OCTET STRING", seq(GOLDEN), "extension value: expected the OCTET STRING that wraps it, found SEQUENCE"),
                    arguments("the value itself, unwrapped", GOLDEN, "found SEQUENCE"),
                    arguments("trailing byte", octets(GOLDEN) + "00", "extension value: 1 trailing byte after the end of the encoding at byte offset 51"),
                    arguments("non-minimal length", "048131" + GOLDEN, "extension value: not DER: byte offset 1"),
                    arguments("constructed OCTET STRING", Der.tlv(0x24, octets(GOLDEN.substring(0, 20)), octets(GOLDEN.substring(20))),
                            "extension value: not DER"),
                    arguments("truncated", octets(GOLDEN).substring(0, 20), "extension value: not valid DER"));
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("badWrappings")
        void refusesAnythingButOneDerOctetString(String name, String hex, String message) {
            assertThatThrownBy(() -> GrantsExtension.unwrapExtensionValue(bytes(hex)))
                    .isInstanceOf(GrantsFormatException.class)
                    .hasMessageContaining(message);
        }

        @Test
        void refusesAWrappingOverTheLengthCap() {
            byte[] huge = new byte[GrantsExtension.MAX_ENCODED_LENGTH + 5];
            assertThatThrownBy(() -> GrantsExtension.unwrapExtensionValue(huge))
                    .isInstanceOf(GrantsFormatException.class)
                    .hasMessage("extension value: 8197 bytes, more than the limit of 8192");
        }
    }
}
