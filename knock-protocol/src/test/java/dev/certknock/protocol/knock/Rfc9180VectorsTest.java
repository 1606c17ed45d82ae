package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContext;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 9180 Appendix A.1.1 (DHKEM(X25519)) and A.3.1 (DHKEM(P-256)), base mode, HKDF-SHA256,
 * AES-128-GCM: run through the HPKE configuration of our two suites, in both directions.
 */
class Rfc9180VectorsTest {

    private static final HexFormat HEX = HexFormat.of();

    static Stream<JsonNode> vectors() throws Exception {
        JsonNode all = new ObjectMapper().readTree(Path.of("../testdata/rfc9180-base-vectors.json").toFile());
        assertThat(all.size()).isEqualTo(2);
        Stream.Builder<JsonNode> out = Stream.builder();
        all.forEach(out::add);
        return out.build();
    }

    private static byte[] hex(JsonNode v, String field) {
        return HEX.parseHex(v.get(field).asText());
    }

    private static KnockSuite suiteOf(JsonNode v) {
        assertThat(v.get("mode").asInt()).isZero();
        assertThat(v.get("kdf_id").asInt()).isEqualTo(HPKE.kdf_HKDF_SHA256);
        assertThat(v.get("aead_id").asInt()).isEqualTo(HPKE.aead_AES_GCM128);
        for (KnockSuite s : KnockSuite.values()) {
            if (s.kemId() == v.get("kem_id").asInt()) {
                return s;
            }
        }
        throw new AssertionError("no suite for kem " + v.get("kem_id"));
    }

    @ParameterizedTest(name = "kem {0}")
    @MethodSource("vectors")
    void senderSide(JsonNode v) throws Exception {
        KnockSuite suite = suiteOf(v);
        HPKE hpke = suite.hpke();
        AsymmetricCipherKeyPair receiver = hpke.deriveKeyPair(hex(v, "ikmR"));
        AsymmetricCipherKeyPair ephemeral = hpke.deriveKeyPair(hex(v, "ikmE"));
        assertThat(hpke.serializePublicKey(receiver.getPublic())).isEqualTo(hex(v, "pkRm"));
        assertThat(hpke.serializePublicKey(ephemeral.getPublic())).isEqualTo(hex(v, "pkEm"));

        HPKEContextWithEncapsulation ctx = hpke.setupBaseS(hpke.deserializePublicKey(hex(v, "pkRm")), hex(v, "info"), ephemeral);
        assertThat(ctx.getEncapsulation()).hasSize(suite.encSize()).isEqualTo(hex(v, "enc"));
        for (JsonNode e : v.get("encryptions")) {
            assertThat(ctx.seal(hex(e, "aad"), hex(e, "pt"))).isEqualTo(hex(e, "ct"));
        }
    }

    @ParameterizedTest(name = "kem {0}")
    @MethodSource("vectors")
    void receiverSide(JsonNode v) throws Exception {
        KnockSuite suite = suiteOf(v);
        HPKE hpke = suite.hpke();
        AsymmetricCipherKeyPair receiver = hpke.deriveKeyPair(hex(v, "ikmR"));
        HPKEContext ctx = hpke.setupBaseR(hex(v, "enc"), receiver, hex(v, "info"));
        for (JsonNode e : v.get("encryptions")) {
            assertThat(ctx.open(hex(e, "aad"), hex(e, "ct"))).isEqualTo(hex(e, "pt"));
        }
    }
}
