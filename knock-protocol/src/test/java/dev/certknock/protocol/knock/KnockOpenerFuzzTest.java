package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;

/**
 * Fuzz targets for the knock opener. In a plain {@code mvn test} Jazzer runs the committed inputs under
 * src/test/resources (regression mode); {@code JAZZER_FUZZ=1} fuzzes. The server key is the first test
 * vector's, so the committed valid datagrams really open.
 */
class KnockOpenerFuzzTest {

    private static final ServerPrivateKey KEY;
    private static final KnockOpener OPENER;
    private static final byte[] IKM_E = new byte[32];

    static {
        try {
            JsonNode v = new ObjectMapper().readTree(Path.of("../testdata/knock-v1-vectors.json").toFile()).get("vectors").get(0);
            HexFormat hex = HexFormat.of();
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(hex.parseHex(v.get("serverCertificate").asText())));
            KEY = ServerPrivateKey.of(KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(hex.parseHex(v.get("serverPrivateKey").asText()))), cert);
            OPENER = KnockOpener.of(KEY);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
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
     * Any sealed content: sealed correctly to the server's key (as anyone with the public key can), so
     * the fuzzer reaches the content parser, certificate parsing and signature check.
     */
    @FuzzTest(maxDuration = "30s")
    void anySealedContent(byte[] plaintext) {
        if (plaintext.length > KnockFormat.MAX_DATAGRAM_SIZE - 91) {
            return;
        }
        byte[] datagram = KnockSealer.sealRawForTest(KEY.publicKey(), IKM_E, plaintext);
        OpenResult result = OPENER.tryOpen(datagram);
        assertThat(result).isNotNull();
    }
}
