package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz targets for the knock opener. In a plain {@code mvn test} Jazzer runs the committed inputs under
 * src/test/resources (regression mode); {@code JAZZER_FUZZ=1} fuzzes. The opener holds the server keys of all
 * the test vectors (P-256 and X25519), so the committed valid datagrams really open, each under its own key.
 */
class KnockOpenerFuzzTest {

    private static final Path VECTORS = Path.of("../testdata/knock-v1-vectors.json");
    private static final Path V2_VECTORS = Path.of("../testdata/knock-v2-vectors.json");
    private static final Path SEEDS = Path.of(
            "src/test/resources/dev/certknock/protocol/knock/KnockOpenerFuzzTestInputs/anyDatagram");
    private static final HexFormat HEX = HexFormat.of();

    private static final JsonNode VECTOR_LIST;
    /** The first vector's key (P-256): anySealedContent seals to it. */
    private static final ServerPrivateKey KEY;
    private static final KnockOpener OPENER;
    private static final byte[] IKM_E = new byte[32];

    static {
        try {
            VECTOR_LIST = new ObjectMapper().readTree(VECTORS.toFile()).get("vectors");
            List<ServerPrivateKey> keys = new ArrayList<>();
            for (JsonNode v : VECTOR_LIST) {
                keys.add(serverKey(v));
            }
            KEY = keys.get(0);
            // The v2 vectors' keys too, so that their committed datagrams (seeds v2-vector*) open as well.
            for (JsonNode v : new ObjectMapper().readTree(V2_VECTORS.toFile()).get("vectors")) {
                keys.add(serverKey(v));
            }
            OPENER = KnockOpener.of(keys);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static ServerPrivateKey serverKey(JsonNode v) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(HEX.parseHex(v.get("serverCertificate").asText())));
        // The certificate's key algorithm is "EC" for P-256 and "XDH" (or "X25519") for X25519 knock keys.
        String algorithm = cert.getPublicKey().getAlgorithm().equals("EC") ? "EC" : "X25519";
        return ServerPrivateKey.of(KeyFactory.getInstance(algorithm).generatePrivate(
                new PKCS8EncodedKeySpec(HEX.parseHex(v.get("serverPrivateKey").asText()))), cert);
    }

    /** Any datagram: the only outcomes are an opened knock or a rejection, never another exception. */
    @FuzzTest(maxDuration = "30s")
    void anyDatagram(byte[] datagram) {
        OpenResult result = OPENER.tryOpen(datagram);
        if (result instanceof OpenResult.Opened opened) {
            // Only genuinely signed knocks open: re-opening gives the same content.
            assertThat(OPENER.tryOpen(datagram)).isInstanceOf(OpenResult.Opened.class);
            assertThat(opened.knock().content().grants()).isNotEmpty();
        }
    }

    /**
     * The committed seeds vector0..vector2 are the test vectors' datagrams and open under the fuzz opener, so
     * regression runs and fuzzing start past the key look-up and HPKE for every suite, not only vector 0's.
     */
    @Test
    void everyCommittedVectorSeedOpens() throws Exception {
        assertThat(VECTOR_LIST).hasSize(3);
        for (int i = 0; i < VECTOR_LIST.size(); i++) {
            byte[] seed = Files.readAllBytes(SEEDS.resolve("vector" + i));
            assertThat(HEX.formatHex(seed)).as("seed vector%d", i).isEqualTo(VECTOR_LIST.get(i).get("datagram").asText());
            assertThat(OPENER.tryOpen(seed)).as("seed vector%d", i).isInstanceOf(OpenResult.Opened.class);
            byte[] v2 = Files.readAllBytes(SEEDS.resolve("v2-vector" + i));
            assertThat(OPENER.tryOpen(v2)).as("seed v2-vector%d", i).isInstanceOfSatisfying(OpenResult.Opened.class,
                    o -> assertThat(o.knock().version()).isEqualTo(KnockVersion.V2));
        }
    }

    /** Header and encapsulated key of a real v2 knock: the signed prefix that anySealedContent's content follows. */
    private static final byte[] PREFIX;

    static {
        try {
            byte[] datagram = KnockSealer.sealRawForTest(KnockVersion.V2, KEY.publicKey(), IKM_E, new byte[1]);
            PREFIX = java.util.Arrays.copyOf(datagram, KnockFormat.HEADER_SIZE + KEY.publicKey().suite().encSize());
        } catch (RuntimeException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Any sealed content, as it comes out of a successful HPKE open of a v2 knock (anyone with the server's public
     * key can seal any content): the content parser, certificate parsing and the signature check, only
     * {@link KnockRejectedException} escapes. The HPKE layer itself is anyDatagram's; this target starts after it, so
     * it runs at parser speed rather than at two Diffie-Hellman operations per input.
     */
    @FuzzTest(maxDuration = "30s")
    void anySealedContent(byte[] plaintext) {
        if (plaintext.length > KnockFormat.MAX_DATAGRAM_SIZE - 91) {
            return;
        }
        try {
            KnockContent content = KnockPlaintext.decode(KnockVersion.V2, plaintext);
            assertThat(content.chain()).isNotEmpty();
            new UnverifiedKnock(KnockVersion.V2, content, KEY.publicKey(), PREFIX, plaintext, null).verify();
        } catch (KnockRejectedException e) {
            assertThat(e.reason()).isNotNull();
        }
    }

    /** A knock of the v2 vectors' first key, whose reply key the reply targets below use. */
    private static final SealedKnock REPLIED;

    static {
        try {
            KnockFixtures fx = KnockFixtures.p256();
            REPLIED = fx.sealer().seal(KnockFixtures.sshFor(30));
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Any datagram reaching a client's socket while it waits for a reply (anyone can send one, spoofing the
     * server's address): never an exception, and only a datagram sealed under this knock's reply key opens.
     */
    @FuzzTest(maxDuration = "30s")
    void anyReplyDatagram(byte[] datagram) {
        assertThat(REPLIED.openReply(datagram, 0, datagram.length)).isEmpty();
    }

    /** Any reply plaintext: never an exception; what decodes re-encodes to the same bytes (one encoding per reply). */
    @FuzzTest(maxDuration = "30s")
    void anyReplyPlaintext(byte[] plaintext) {
        java.util.Optional<KnockReply> reply = ReplyPlaintext.decode(plaintext);
        reply.ifPresent(r -> assertThat(ReplyPlaintext.encode(r)).isEqualTo(plaintext));
    }
}
