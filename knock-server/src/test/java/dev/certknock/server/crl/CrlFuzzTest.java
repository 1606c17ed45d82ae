package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.certknock.server.fuzz.FuzzPki;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;

/**
 * CRL bytes as any CRL source may serve them (plain HTTP, a cache file): through {@link PemCrl#toDer}, which may
 * only refuse with {@link IllegalArgumentException}, and {@link CrlStore#offer}, which never throws for bad input
 * and answers a rejection with a reason. An accepted CRL must really be the anchor's (its signature verifies with
 * the anchor's key, independently, with the JDK), and a serial it lists must then look up as revoked.
 *
 * <p>The anchor is the fixed test PKI of {@link FuzzPki}: the committed {@code openssl-*} inputs are CRLs it signed,
 * the others were made with the test PKI ({@code CrlBuilder}) and {@link HandMadeCrl} under other keys. In a plain
 * {@code mvn test} Jazzer runs the committed inputs; {@code JAZZER_FUZZ=1} fuzzes.
 */
class CrlFuzzTest {

    private static final Clock CLOCK = Clock.fixed(FuzzPki.NOW, ZoneOffset.UTC);

    @FuzzTest(maxDuration = "2m")
    void anyCrlBody(byte[] body) throws Exception {
        byte[] der;
        try {
            der = PemCrl.toDer(body);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).as("a PEM refusal says why").isNotBlank();
            der = body; // the store must stand the raw bytes too
        }
        CrlStore store = new CrlStore(List.of(FuzzPki.ANCHOR), CLOCK, Duration.ZERO);
        CrlUpdate update = store.offer(der, "fuzz");
        assertThat(update).isNotNull();
        if (update instanceof CrlUpdate.Rejected rejected) {
            assertThat(rejected.reason()).isNotNull();
            assertThat(rejected.message()).isNotBlank();
            assertThat(store.infos()).as("nothing is held after a rejection").isEmpty();
            assertThat(store.status(FuzzPki.ALICE, FuzzPki.ANCHOR))
                    .isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        } else {
            assertThat(update).as("an empty store takes a first CRL or refuses it").isInstanceOf(CrlUpdate.Accepted.class);
            X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509")
                    .generateCRL(new ByteArrayInputStream(der));
            crl.verify(FuzzPki.ANCHOR.getPublicKey()); // throws (a finding) if the store took a CRL the anchor did not sign
            assertThat(crl.getIssuerX500Principal()).isEqualTo(FuzzPki.ANCHOR.getSubjectX500Principal());
            assertThat(store.infos()).hasSize(1);
            RevocationStatus alice = store.status(FuzzPki.ALICE, FuzzPki.ANCHOR);
            if (crl.getRevokedCertificate(FuzzPki.ALICE.getSerialNumber()) != null) {
                assertThat(alice).isInstanceOf(RevocationStatus.Revoked.class);
            } else {
                assertThat(alice).isNotInstanceOf(RevocationStatus.Revoked.class);
            }
        }
    }

    /** The committed seeds reach acceptance (with and without alice revoked) and refusal. */
    @org.junit.jupiter.api.Test
    void theSeedsReachBothOutcomes() throws Exception {
        assertThat(offered("openssl-anchor-number1.der")).isInstanceOf(CrlUpdate.Accepted.class);
        CrlUpdate revoking = offered("openssl-anchor-number2-revokes-alice.pem");
        assertThat(revoking).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(((CrlUpdate.Accepted) revoking).newlyRevokedSerials()).contains(FuzzPki.ALICE.getSerialNumber());
        assertThat(offered("crlbuilder-same-name-other-key")).isInstanceOf(CrlUpdate.Rejected.class);
        assertThat(offered("handmade-idp-integer")).isInstanceOf(CrlUpdate.Rejected.class);
    }

    private static CrlUpdate offered(String seed) throws Exception {
        try (var in = CrlFuzzTest.class.getResourceAsStream("CrlFuzzTestInputs/anyCrlBody/" + seed)) {
            return new CrlStore(List.of(FuzzPki.ANCHOR), CLOCK, Duration.ZERO).offer(PemCrl.toDer(in.readAllBytes()), seed);
        }
    }
}
