package dev.certknock.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.CertStore;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The test PKI's good certificates validate with the JDK's PKIX validator; its bad ones fail as named. */
class TestPkiTest {

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-06-01T12:00:00Z"));
    private final TestCa root = TestCa.root("CN=root", clock);

    private void validate(IssuedCertificate leaf, TestCa anchor, X509CRL... crls) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor.certificate(), null)));
        params.setDate(Date.from(clock.instant()));
        params.setRevocationEnabled(crls != null);
        List<Object> stores = new ArrayList<>();
        if (crls != null) {
            stores.addAll(List.of(crls));
        }
        params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(stores)));
        CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(leaf.chain()), params);
    }

    @Test
    void aLeafAndAnIntermediateChainValidate() throws Exception {
        validate(root.leaf("CN=a").build(), root, (X509CRL[]) null);
        TestCa intermediate = root.intermediate("CN=inter").pathLength(0).build();
        IssuedCertificate leaf = intermediate.leaf("CN=b").keyType(KeyType.ED25519).build();
        assertThat(leaf.chain()).containsExactly(leaf.certificate(), intermediate.certificate());
        validate(leaf, root, root.crl().build(), intermediate.crl().build());
    }

    @Test
    void deliberatelyBadCertificatesFail() {
        assertThatThrownBy(() -> validate(root.leaf("CN=old").expired().build(), root, (X509CRL[]) null))
                .isInstanceOf(CertPathValidatorException.class)
                .hasRootCauseInstanceOf(java.security.cert.CertificateExpiredException.class);
        assertThatThrownBy(() -> validate(root.leaf("CN=young").notYetValid().build(), root, (X509CRL[]) null))
                .isInstanceOf(CertPathValidatorException.class)
                .hasRootCauseInstanceOf(java.security.cert.CertificateNotYetValidException.class);
        TestCa other = TestCa.root("CN=other", clock);
        assertThatThrownBy(() -> validate(root.leaf("CN=forged").signedBy(other).build(), root, (X509CRL[]) null))
                .isInstanceOf(CertPathValidatorException.class).hasMessageContaining("ignature");
        TestCa notCa = root.intermediate("CN=not a ca").notACa().build();
        assertThatThrownBy(() -> validate(notCa.leaf("CN=c").build(), root, (X509CRL[]) null))
                .isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void aRevokedCertificateFailsWithItsCrl() throws Exception {
        IssuedCertificate leaf = root.leaf("CN=revoked").build();
        X509CRL crl = root.crl().revoke(leaf.certificate()).build();
        assertThat(crl.isRevoked(leaf.certificate())).isTrue();
        crl.verify(root.certificate().getPublicKey());
        assertThatThrownBy(() -> validate(leaf, root, crl))
                .isInstanceOf(CertPathValidatorException.class).hasMessageContaining("revoked");
        X509CRL forged = root.crl().signedBy(TestCa.root("CN=x", clock)).build();
        assertThatThrownBy(() -> forged.verify(root.certificate().getPublicKey()))
                .isInstanceOf(java.security.SignatureException.class);
    }

    @Test
    void crlNumbersCountUp() {
        X509CRL first = root.crl().build();
        X509CRL second = root.crl().build();
        assertThat(crlNumber(second)).isEqualTo(crlNumber(first) + 1);
    }

    private static long crlNumber(X509CRL crl) {
        byte[] ext = crl.getExtensionValue("2.5.29.20");
        return org.bouncycastle.asn1.ASN1Integer.getInstance(
                org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).longValueExact();
    }

    @Test
    void extensionsAndNamesAreWritten() {
        X509Certificate c = root.leaf("CN=s").dnsName("gw1.example.test").extendedKeyUsage("1.2.3.4")
                .extension("1.2.3.5", true, new byte[] {0x05, 0x00}).build().certificate();
        assertThat(c.getCriticalExtensionOIDs()).contains("1.2.3.5");
        assertThat(c.getExtensionValue("2.5.29.17")).isNotNull();
        assertThat(c.getNotBefore().toInstant()).isEqualTo(clock.instant().minusSeconds(3600));
    }
}
