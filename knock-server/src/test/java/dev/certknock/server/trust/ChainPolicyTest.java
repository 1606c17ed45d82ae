package dev.certknock.server.trust;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * certknock's policy for a client's path on top of PKIX: the leaf may sign (keyUsage, when present,
 * allows digitalSignature), the leaf is no CA, and the path holds at most
 * {@link ChainValidator#MAX_INTERMEDIATES} intermediate CAs between the leaf and the trust anchor.
 */
class ChainPolicyTest {

    private static final CertknockGrants SSH = CertknockGrants.of(PortGrant.parse("tcp/22"))
            .withMaxOpenSeconds(300).withServers(List.of(ServerFixture.SERVER_NAME));

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-11-22T10:00:00Z"));
    private final TestCa root = TestCa.root("CN=chain policy test CA", clock);
    private final CrlStore crls = new CrlStore(List.of(root.certificate()), clock, Duration.ZERO);

    private ChainResult validate(IssuedCertificate c) throws Exception {
        ChainValidator v = new ChainValidator(new TrustStore(List.of(root.certificate()), List.of()), crls::generation, 10);
        return v.validate(c.chain(), MessageDigest.getInstance("SHA-256").digest(c.encoded()), clock.instant());
    }

    private static void assertInvalid(ChainResult r, DropReason reason, String detail) {
        assertThat(r).isInstanceOfSatisfying(ChainResult.Invalid.class, i -> {
            assertThat(i.reason()).isEqualTo(reason);
            assertThat(i.detail()).contains(detail);
        });
    }

    @Test
    void aLeafWithDigitalSignatureAmongItsKeyUsagesOrWithoutKeyUsageIsAccepted() throws Exception {
        assertThat(validate(ServerFixture.client(root, "alice", SSH)
                .keyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement).build())).isInstanceOf(ChainResult.Valid.class);
        assertThat(validate(ServerFixture.client(root, "bob", SSH).keyUsage(null).build()))
                .isInstanceOf(ChainResult.Valid.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {KeyUsage.keyAgreement, KeyUsage.keyEncipherment, KeyUsage.nonRepudiation,
            KeyUsage.dataEncipherment | KeyUsage.keyAgreement})
    void aLeafWhoseKeyUsageLacksDigitalSignatureIsRefused(int bits) throws Exception {
        assertInvalid(validate(ServerFixture.client(root, "mallory", SSH).keyUsage(bits).build()),
                DropReason.UNTRUSTED_CHAIN, "keyUsage without digitalSignature");
    }

    @Test
    void aCaCertificateIsNeverAClientLeafEvenWithTheClientEkuAndGrants() throws Exception {
        assertInvalid(validate(ServerFixture.client(root, "sub CA", SSH).basicConstraints(true, null)
                .keyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign).build()),
                DropReason.UNTRUSTED_CHAIN, "leaf is a CA certificate");
        assertInvalid(validate(ServerFixture.client(root, "sub CA 0", SSH).basicConstraints(true, 0)
                .keyUsage(KeyUsage.digitalSignature).build()),
                DropReason.UNTRUSTED_CHAIN, "leaf is a CA certificate");
        // cA=false said explicitly is an end entity.
        assertThat(validate(ServerFixture.client(root, "carol", SSH).basicConstraints(false, null).build()))
                .isInstanceOf(ChainResult.Valid.class);
    }

    private IssuedCertificate underIntermediates(int count) {
        TestCa issuer = root;
        for (int i = 1; i <= count; i++) {
            issuer = issuer.intermediate("CN=intermediate " + i).build();
        }
        return ServerFixture.client(issuer, "deep", SSH).build();
    }

    @Test
    void exactlyTheMaximumNumberOfIntermediatesIsAccepted() throws Exception {
        IssuedCertificate atLimit = underIntermediates(ChainValidator.MAX_INTERMEDIATES);
        ChainResult r = validate(atLimit);
        assertThat(r).isInstanceOf(ChainResult.Valid.class);
        assertThat(((ChainResult.Valid) r).path()).hasSize(ChainValidator.MAX_INTERMEDIATES + 1);
    }

    @Test
    void oneIntermediateMoreThanTheMaximumIsRefused() throws Exception {
        assertInvalid(validate(underIntermediates(ChainValidator.MAX_INTERMEDIATES + 1)),
                DropReason.UNTRUSTED_CHAIN, "");
    }
}
