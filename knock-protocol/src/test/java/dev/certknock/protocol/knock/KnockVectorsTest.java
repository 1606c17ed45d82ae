package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.CaBuilder;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.ByteArrayInputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed knock test vectors, testdata/knock-v1-vectors.json (frozen) and testdata/knock-v2-vectors.json:
 * fixed keys, certificates, time and random bytes with the exact datagram they give, and for v2 a sealed reply.
 * Read in both directions: sealing the inputs must give the datagram byte for byte, and opening the datagram must
 * give the inputs; the server's reply sealed with the recorded nonce must give the reply bytes, and the client
 * must read the reply back. Regenerate the v2 file with
 * {@code ./mvnw -pl knock-protocol test -Dtest=KnockVectorsTest -Dcertknock.writeVectors=true}.
 */
class KnockVectorsTest {

    private static final Path V1_FILE = Path.of("../testdata/knock-v1-vectors.json");
    private static final Path FILE = Path.of("../testdata/knock-v2-vectors.json");
    private static final HexFormat HEX = HexFormat.of();

    static Stream<JsonNode> vectors() throws Exception {
        Stream.Builder<JsonNode> b = Stream.builder();
        for (Path file : List.of(V1_FILE, FILE)) {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            assertThat(root.get("vectors").size()).isGreaterThanOrEqualTo(3);
            int version = root.path("version").asInt(1);
            root.get("vectors").forEach(v -> b.add(((ObjectNode) v.deepCopy()).put("version", version)));
        }
        return b.build();
    }

    private static KnockVersion version(JsonNode v) {
        return KnockVersion.ofWireId(v.get("version").asInt());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void sealingTheInputsGivesTheDatagram(JsonNode v) throws Exception {
        X509Certificate serverCert = cert(v.get("serverCertificate").asText());
        List<X509Certificate> chain = new ArrayList<>();
        v.get("clientChain").forEach(c -> chain.add(cert(c.asText())));
        PrivateKey clientKey = privateKey(v.get("clientPrivateKey").asText(), chain.get(0).getPublicKey().getAlgorithm());
        byte[] random = HEX.parseHex(v.get("nonce").asText() + v.get("ikmE").asText());
        KnockSealer sealer = new KnockSealer(new ClientCredential(KnockSigners.forPrivateKey(clientKey), chain),
                ServerPublicKey.fromCertificate(serverCert),
                MutableClock.at(Instant.ofEpochMilli(v.get("timestampMillis").asLong())),
                new KnockFixtures.FixedRandom(random)).withVersion(version(v));
        SealedKnock sealed = sealer.seal(request(v.get("request")));
        byte[] datagram = sealed.datagram();
        assertThat(HEX.formatHex(datagram)).isEqualTo(v.get("datagram").asText());
        assertThat(datagram).hasSize(v.get("datagramSize").asInt());
        if (v.has("reply")) {
            byte[] replyDatagram = HEX.parseHex(v.get("reply").get("datagram").asText());
            assertThat(sealed.openReply(replyDatagram, 0, replyDatagram.length)).contains(reply(v.get("reply")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void openingTheDatagramGivesTheInputs(JsonNode v) throws Exception {
        X509Certificate serverCert = cert(v.get("serverCertificate").asText());
        PrivateKey serverKey = privateKey(v.get("serverPrivateKey").asText(), serverCert.getPublicKey().getAlgorithm());
        KnockOpener opener = KnockOpener.of(ServerPrivateKey.of(serverKey, serverCert));
        KnockFrame frame = KnockFrame.parse(HEX.parseHex(v.get("datagram").asText()));
        assertThat(HEX.formatHex(frame.keyId())).isEqualTo(v.get("serverKeyId").asText());
        VerifiedKnock verified = opener.open(frame).verify();
        assertThat(verified.version()).isEqualTo(version(v));
        KnockContent c = verified.content();
        KnockRequest expected = request(v.get("request"));
        assertThat(c.timestampMillis()).isEqualTo(v.get("timestampMillis").asLong());
        assertThat(c.nonce().toString()).isEqualTo(v.get("nonce").asText());
        assertThat(c.grants()).isEqualTo(expected.grants());
        assertThat(c.durationSeconds()).isEqualTo(expected.durationSeconds());
        assertThat(c.declaredIpv4()).isEqualTo(expected.declaredIpv4());
        assertThat(c.declaredIpv6()).isEqualTo(expected.declaredIpv6());
        List<String> chain = new ArrayList<>();
        for (X509Certificate x : c.chain()) {
            chain.add(HEX.formatHex(x.getEncoded()));
        }
        List<String> expectedChain = new ArrayList<>();
        v.get("clientChain").forEach(x -> expectedChain.add(x.asText()));
        assertThat(chain).isEqualTo(expectedChain);
        if (v.has("reply")) {
            JsonNode r = v.get("reply");
            byte[] sealedReply = new ReplySealer(new KnockFixtures.FixedRandom(HEX.parseHex(r.get("nonce").asText())))
                    .seal(verified, reply(r)).orElseThrow();
            assertThat(HEX.formatHex(sealedReply)).isEqualTo(r.get("datagram").asText());
        } else {
            assertThat(version(v)).as("every v2 vector has a reply").isEqualTo(KnockVersion.V1);
        }
    }

    private static KnockReply reply(JsonNode r) throws Exception {
        java.net.InetSocketAddress observed = new java.net.InetSocketAddress(
                InetAddress.getByName(r.get("observedAddress").asText()), r.get("observedPort").asInt());
        return switch (r.get("kind").asText()) {
            case "opened" -> new KnockReply.Opened(r.get("serverTimeMillis").asLong(), observed, r.get("openSeconds").asInt());
            case "address-not-signed" -> new KnockReply.AddressNotSigned(r.get("serverTimeMillis").asLong(), observed);
            default -> throw new IllegalArgumentException("unknown reply kind " + r.get("kind"));
        };
    }

    private static KnockRequest request(JsonNode r) throws Exception {
        List<PortGrant> grants = new ArrayList<>();
        r.get("grants").forEach(g -> grants.add(PortGrant.parse(g.asText())));
        Optional<Inet4Address> v4 = r.hasNonNull("declaredIpv4")
                ? Optional.of((Inet4Address) InetAddress.getByName(r.get("declaredIpv4").asText())) : Optional.empty();
        Optional<Inet6Address> v6 = r.hasNonNull("declaredIpv6")
                ? Optional.of((Inet6Address) InetAddress.getByName(r.get("declaredIpv6").asText())) : Optional.empty();
        return new KnockRequest(grants, r.get("durationSeconds").asInt(), v4, v6);
    }

    private static X509Certificate cert(String hex) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(HEX.parseHex(hex)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static PrivateKey privateKey(String hex, String algorithm) throws Exception {
        String alg = switch (algorithm) {
            case "EC" -> "EC";
            case "XDH", "X25519" -> "X25519";
            default -> "Ed25519";
        };
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(HEX.parseHex(hex)));
    }

    /** Writes a new vectors file. Run only on purpose: new certificates and keys change every vector. */
    @Test
    @EnabledIfSystemProperty(named = "certknock.writeVectors", matches = "true")
    void writeVectors() throws Exception {
        MutableClock clock = MutableClock.at(Instant.parse("2026-01-01T00:00:00Z"));
        TestCa root = TestCa.root("CN=certknock vectors root", clock);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode out = json.createObjectNode();
        out.put("description", "certknock knock packet v2 test vectors: see docs/PROTOCOL.md. The random bytes a "
                + "sealer draws are the 16-byte nonce, then 32 bytes of ikmE (RFC 9180 DeriveKeyPair input for "
                + "the ephemeral key). ECDSA signatures are deterministic (RFC 6979). Keys are PKCS#8 DER, "
                + "certificates DER, all hex. Each vector also has the server's reply to the knock: its fields, "
                + "the 12-byte reply nonce the server drew, and the reply datagram. The keys are test keys of no value.");
        out.put("version", 2);
        ArrayNode vectors = out.putArray("vectors");
        vectors.add(vector(json, "P-256 server key, P-256 client, two grants, both declared addresses", root,
                KeyType.P256, root, KeyType.P256, clock, 1_767_225_600_000L + 123,
                List.of("tcp/22", "udp/8000-8100"), 300, "198.51.100.7", "2001:db8::42"));
        vectors.add(vector(json, "X25519 server key, Ed25519 client, one grant, a private address declared from behind NAT", root,
                KeyType.X25519, root, KeyType.ED25519, clock, 1_767_225_600_000L + 456_789,
                List.of("tcp/443"), 30, "192.168.1.20", null));
        CaBuilder ib = root.intermediate("CN=certknock vectors issuing CA").pathLength(0);
        TestCa intermediate = ib.build();
        vectors.add(vector(json, "P-256 server key, Ed25519 client under an intermediate (chain of two), four grants",
                root, KeyType.P256, intermediate, KeyType.ED25519, clock, 1_767_225_600_000L + 86_400_000L,
                List.of("tcp/22", "tcp/443", "udp/53", "tcp/5432-5433"), 3600, "203.0.113.200", null));
        json.writeValue(FILE.toFile(), out);
    }

    private static ObjectNode vector(ObjectMapper json, String name, TestCa serverCa, KeyType serverType,
            TestCa clientCa, KeyType clientType, MutableClock clock, long timestamp, List<String> grants,
            int duration, String v4, String v6) throws Exception {
        IssuedCertificate server = serverCa.leaf("CN=gw1.example.test").keyType(serverType).dnsName("gw1.example.test").build();
        IssuedCertificate client = clientCa.leaf("CN=vector client").keyType(clientType).build();
        byte[] nonce = new byte[16];
        byte[] ikmE = new byte[32];
        new java.security.SecureRandom().nextBytes(nonce);
        new java.security.SecureRandom().nextBytes(ikmE);
        ObjectNode v = json.createObjectNode();
        v.put("name", name);
        v.put("serverCertificate", HEX.formatHex(server.encoded()));
        v.put("serverPrivateKey", HEX.formatHex(server.privateKey().getEncoded()));
        v.put("serverKeyId", ServerPublicKey.fromCertificate(server.certificate()).keyIdHex());
        ArrayNode chain = v.putArray("clientChain");
        for (X509Certificate c : client.chain()) {
            chain.add(HEX.formatHex(c.getEncoded()));
        }
        v.put("clientPrivateKey", HEX.formatHex(client.privateKey().getEncoded()));
        v.put("timestampMillis", timestamp);
        v.put("nonce", HEX.formatHex(nonce));
        v.put("ikmE", HEX.formatHex(ikmE));
        ObjectNode r = v.putObject("request");
        grants.forEach(r.putArray("grants")::add);
        r.put("durationSeconds", duration);
        r.put("declaredIpv4", v4);
        r.put("declaredIpv6", v6);
        byte[] random = new byte[48];
        System.arraycopy(nonce, 0, random, 0, 16);
        System.arraycopy(ikmE, 0, random, 16, 32);
        KnockSealer sealer = new KnockSealer(
                new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain()),
                ServerPublicKey.fromCertificate(server.certificate()), MutableClock.at(Instant.ofEpochMilli(timestamp)),
                new KnockFixtures.FixedRandom(random));
        byte[] d = sealer.seal(request(r)).datagram();
        v.put("datagramSize", d.length);
        v.put("datagram", HEX.formatHex(d));
        ObjectNode reply = v.putObject("reply");
        if (v4 != null && v4.startsWith("192.168.")) {
            reply.put("kind", "address-not-signed");
            reply.put("observedAddress", "203.0.113.77");
            reply.put("observedPort", 61_000);
        } else {
            reply.put("kind", "opened");
            reply.put("observedAddress", v4 != null ? v4 : v6);
            reply.put("observedPort", 40_000 + duration % 1000);
            reply.put("openSeconds", Math.min(duration, 300));
        }
        reply.put("serverTimeMillis", timestamp + 250);
        byte[] replyNonce = new byte[12];
        new java.security.SecureRandom().nextBytes(replyNonce);
        reply.put("nonce", HEX.formatHex(replyNonce));
        KnockOpener opener = KnockOpener.of(ServerPrivateKey.of(server.privateKey(), server.certificate()));
        byte[] sealedReply = new ReplySealer(new KnockFixtures.FixedRandom(replyNonce))
                .seal(opener.openAndVerify(d), reply(reply)).orElseThrow();
        reply.put("datagram", HEX.formatHex(sealedReply));
        return v;
    }
}
