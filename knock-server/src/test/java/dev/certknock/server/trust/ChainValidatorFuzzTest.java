package dev.certknock.server.trust;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.server.fuzz.FuzzPki;
import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link ChainValidator} on certificates as an unauthenticated knock carries them (chain validation runs before the
 * knock's signature is checked). The input is up to four certificates, each a 2-byte big-endian length and that
 * many bytes, as in the knock plaintext; each is parsed as the knock parser does (exact DER through the JDK's
 * {@link CertificateFactory}; what it refuses never reaches the validator). Then only a {@link ChainResult} may
 * come out, and a {@link ChainResult.Valid} path must really chain to the test anchor: every signature on it
 * verifies, independently, with the JDK, up to the anchor's key, and its leaf is the presented one with
 * id-kp-certknockClient.
 *
 * <p>The anchor and the seeds' certificates are the fixed test PKI of {@link FuzzPki}. In a plain {@code mvn test}
 * Jazzer runs the committed inputs; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ChainValidatorFuzzTest {

    private static final int MAX_CERTIFICATES = 4;

    @FuzzTest(maxDuration = "2m")
    void anyPresentedChain(byte[] input) throws Exception {
        List<X509Certificate> presented = certificates(input);
        if (presented.isEmpty()) {
            return;
        }
        ChainValidator validator = new ChainValidator(new TrustStore(List.of(FuzzPki.ANCHOR), List.of()), () -> 0L, 4);
        byte[] fingerprint = MessageDigest.getInstance("SHA-256").digest(presented.get(0).getEncoded());
        ChainResult result = validator.validate(presented, fingerprint, FuzzPki.NOW);
        assertThat(result).isNotNull();
        if (result instanceof ChainResult.Invalid invalid) {
            assertThat(invalid.reason()).isNotNull();
            return;
        }
        ChainResult.Valid valid = (ChainResult.Valid) result;
        List<X509Certificate> path = valid.path();
        assertThat(path).isNotEmpty();
        assertThat(path.get(0)).isEqualTo(presented.get(0));
        assertThat(path.get(0).getExtendedKeyUsage()).contains(CertknockOids.KP_CLIENT.getId());
        assertThat(valid.grants()).isNotNull();
        for (int i = 0; i + 1 < path.size(); i++) {
            path.get(i).verify(path.get(i + 1).getPublicKey());
            assertThat(path.get(i).getIssuerX500Principal()).isEqualTo(path.get(i + 1).getSubjectX500Principal());
        }
        X509Certificate top = path.get(path.size() - 1);
        top.verify(FuzzPki.ANCHOR.getPublicKey()); // throws (a finding) if a Valid path does not end at the anchor
        assertThat(top.getIssuerX500Principal()).isEqualTo(FuzzPki.ANCHOR.getSubjectX500Principal());
        assertThat(valid.notBefore()).isBeforeOrEqualTo(FuzzPki.NOW);
        assertThat(valid.notAfter()).isAfterOrEqualTo(FuzzPki.NOW);
    }

    /** The committed seeds reach both outcomes: the fuzzer starts from real chains, not only from refusals. */
    @org.junit.jupiter.api.Test
    void theSeedsReachBothOutcomes() throws Exception {
        assertThat(outcome("alice")).isInstanceOf(ChainResult.Valid.class);
        assertThat(outcome("bob-with-intermediate")).isInstanceOf(ChainResult.Valid.class);
        assertThat(outcome("bob-without-intermediate")).isInstanceOf(ChainResult.Invalid.class);
        assertThat(outcome("intermediate-as-leaf")).isInstanceOf(ChainResult.Invalid.class);
        assertThat(outcome("test-pki-client-other-anchor")).isInstanceOf(ChainResult.Invalid.class);
    }

    private static ChainResult outcome(String seed) throws Exception {
        byte[] input;
        try (var in = ChainValidatorFuzzTest.class.getResourceAsStream("ChainValidatorFuzzTestInputs/anyPresentedChain/" + seed)) {
            input = in.readAllBytes();
        }
        List<X509Certificate> presented = certificates(input);
        assertThat(presented).as(seed).isNotEmpty();
        return new ChainValidator(new TrustStore(List.of(FuzzPki.ANCHOR), List.of()), () -> 0L, 4).validate(presented,
                MessageDigest.getInstance("SHA-256").digest(presented.get(0).getEncoded()), FuzzPki.NOW);
    }

    /** The certificates the knock parser would hand on: exact DER only, at most four; the rest of the input is ignored. */
    private static List<X509Certificate> certificates(byte[] input) {
        List<X509Certificate> out = new ArrayList<>();
        int p = 0;
        while (out.size() < MAX_CERTIFICATES && input.length - p >= 2) {
            int len = ((input[p] & 0xFF) << 8) | (input[p + 1] & 0xFF);
            p += 2;
            if (len == 0 || len > input.length - p) {
                break;
            }
            X509Certificate c = parse(input, p, len);
            if (c == null) {
                return List.of(); // the knock is refused as MALFORMED_CERTIFICATE before validation
            }
            out.add(c);
            p += len;
        }
        return out;
    }

    private static X509Certificate parse(byte[] in, int off, int len) {
        if ((in[off] & 0xFF) != 0x30) {
            return null;
        }
        try {
            X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(in, off, len));
            byte[] enc = c.getEncoded();
            return Arrays.equals(enc, 0, enc.length, in, off, off + len) ? c : null;
        } catch (java.security.cert.CertificateException | RuntimeException e) {
            return null;
        }
    }
}
