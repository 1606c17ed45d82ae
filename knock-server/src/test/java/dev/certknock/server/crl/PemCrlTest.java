package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;

/** PEM decoding of fetched CRL bodies, and the path from a PEM body to the store for malformed CRLs. */
class PemCrlTest {

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-03-01T12:00:00Z"));
    private final TestCa ca = TestCa.root("CN=pem test CA", clock);

    private static byte[] pem(byte[] der) {
        return ("-----BEGIN X509 CRL-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END X509 CRL-----\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void derPassesThroughAndPemDecodes() throws Exception {
        byte[] der = ca.crl().build().getEncoded();
        assertThat(PemCrl.toDer(der)).isEqualTo(der);
        assertThat(PemCrl.toDer(pem(der))).isEqualTo(der);
    }

    @Test
    void badPemIsAnIllegalArgumentWithItsReason() {
        for (String bad : List.of("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
                "-----BEGIN X509 CRL-----\nAAAA\n", "-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n",
                "-----BEGIN X509 CRL-----\n\n-----END X509 CRL-----\n",
                "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\ntrailing")) {
            assertThatThrownBy(() -> PemCrl.toDer(bad.getBytes(StandardCharsets.US_ASCII)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PEM body");
        }
    }

    @Test
    void randomBytesOnlyEverGiveDerOrAnIllegalArgumentAndTheStoreRefusesThem() {
        CrlStore store = new CrlStore(List.of(ca.certificate()), clock, Duration.ZERO);
        Random random = new Random(10);
        for (int i = 0; i < 2_000; i++) {
            byte[] body = new byte[random.nextInt(64)];
            random.nextBytes(body);
            if (i % 2 == 0 && body.length > 0) {
                body[0] = '-';
            }
            byte[] der;
            try {
                der = PemCrl.toDer(body);
            } catch (IllegalArgumentException e) {
                continue;
            }
            assertThat(store.offer(der, "random")).isInstanceOf(CrlUpdate.Rejected.class);
        }
    }

    @Test
    void aPemCrlWithAMalformedIssuingDistributionPointReachesTheStoreAsARejection() {
        CrlStore store = new CrlStore(List.of(ca.certificate()), clock, Duration.ZERO);
        byte[] malformed = HandMadeCrl.of(ca, clock.instant())
                .extension(Extension.issuingDistributionPoint, true, new DEROctetString(new byte[] {5})).der();
        CrlUpdate update = store.offer(PemCrl.toDer(pem(malformed)), "http://ca/crl.pem");
        assertThat(update).isInstanceOfSatisfying(CrlUpdate.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectionReason.UNPARSEABLE));
    }
}
