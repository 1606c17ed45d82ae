package dev.certknock.server.trust;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.ca.init.CaInitService;
import dev.certknock.ca.init.InitRequest;
import dev.certknock.ca.issue.ClientRequest;
import dev.certknock.ca.issue.GrantOptions;
import dev.certknock.ca.issue.IssueService;
import dev.certknock.ca.issue.SigningCa;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import dev.certknock.server.knock.DropReason;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A constrained intermediate made by knock-ca's own services ({@code init --parent --grant ...}): the server accepts a
 * client certificate {@code issue-client} makes under it, and refuses, with {@link DropReason#GRANT_OUTSIDE_CA_BOUND},
 * certificates signed with the intermediate's key outside its bound (which {@code issue-client} itself refuses to make:
 * ca-tools' CaBoundTest) - as a CA that bypasses knock-ca, or an older knock-ca, would sign them.
 */
class CaBoundKnockCaTest {

    private static final char[] PASSWORD = "correct horse battery staple".toCharArray();

    @TempDir
    Path dir;

    private final SecureRandom random = new SecureRandom();
    private Path root;
    private Path db;
    private ChainValidator validator;

    @BeforeEach
    void knockCaMakesARootAndAConstrainedIntermediate() {
        root = dir.resolve("root");
        db = dir.resolve("db-ca");
        CaInitService init = new CaInitService(Clock.systemUTC(), random);
        init.init(new InitRequest(root, "Security Root", "p256", 30, "http://ca.example.test/root.crl", 7, null, PASSWORD,
                null, null));
        init.init(new InitRequest(db, "Database Team CA", "p256", 20, "http://ca.example.test/db.crl", 7, null, PASSWORD,
                root, PASSWORD, new GrantOptions(List.of("tcp/5432"), 600, List.of("*.db.example.test"),
                        List.of("10.20.0.0/16"))));
        validator = new ChainValidator(new TrustStore(List.of(PemFiles.certificate(root.resolve("ca.pem"))),
                List.of(PemFiles.certificate(db.resolve("ca.pem")))), () -> 0, 10);
    }

    private ChainResult validate(X509Certificate leaf) throws Exception {
        return validator.validate(List.of(leaf), MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()),
                Instant.now());
    }

    @Test
    void aClientCertificateIssueClientMakesUnderTheBoundIsAcceptedAndCapped() throws Exception {
        new IssueService(Clock.systemUTC(), random).issueClient(new ClientRequest(db, PASSWORD, "alice",
                new GrantOptions(List.of("tcp/5432"), null, List.of("pg1.db.example.test"), List.of("10.20.3.0/24")), false,
                Duration.ofDays(1), "p256", null, dir.resolve("alice.p12"), null, "bundle password!".toCharArray()));
        ChainResult r = validate(PemFiles.certificate(dir.resolve("alice.pem")));
        assertThat(r).isInstanceOfSatisfying(ChainResult.Valid.class, v -> {
            assertThat(v.caMaxOpenSeconds()).hasValue(600);
            assertThat(v.path()).hasSize(2);
        });
    }

    @Test
    void certificatesSignedWithTheIntermediatesKeyOutsideItsBoundAreRefused() throws Exception {
        String ca = "outside the bound of CA 1 above the client certificate ('CN=Database Team CA'): ";
        assertOutside(signed(grants("tcp/22", "pg1.db.example.test", "10.20.0.0/16")),
                ca + "grant tcp/22 is outside the bound's grants tcp/5432");
        assertOutside(signed(grants("tcp/5432", "pg1.example.test", "10.20.0.0/16")),
                ca + "server pg1.example.test is not covered by the bound's servers *.db.example.test");
        assertOutside(signed(grants("tcp/5432", null, "10.20.0.0/16")), ca + "no servers listed (any server)");
        assertOutside(signed(grants("tcp/5432", "pg1.db.example.test", "10.21.0.0/16")),
                ca + "source 10.21.0.0/16 is not inside the bound's sources 10.20.0.0/16");
        assertOutside(signed(grants("tcp/5432", "pg1.db.example.test", null)), ca + "no sources listed (any source)");
        // A maxOpenSeconds above the bound's is no refusal: openings are cut to the bound's.
        ChainResult longer = validate(signed(grants("tcp/5432", "pg1.db.example.test", "10.20.0.0/16").withMaxOpenSeconds(3600)));
        assertThat(longer).isInstanceOfSatisfying(ChainResult.Valid.class, v -> assertThat(v.caMaxOpenSeconds()).hasValue(600));
    }

    private static CertknockGrants grants(String grant, String server, String source) {
        CertknockGrants g = CertknockGrants.of(PortGrant.parse(grant));
        if (server != null) {
            g = g.withServers(List.of(server));
        }
        if (source != null) {
            g = g.withSources(List.of(SourcePrefix.parse(source)));
        }
        return g;
    }

    private void assertOutside(X509Certificate leaf, String detail) throws Exception {
        assertThat(validate(leaf)).isInstanceOfSatisfying(ChainResult.Invalid.class, i -> {
            assertThat(i.reason()).isEqualTo(DropReason.GRANT_OUTSIDE_CA_BOUND);
            assertThat(i.detail()).contains(detail);
        });
    }

    /** A client certificate signed with the knock-ca intermediate's key, past issue-client's check. */
    private X509Certificate signed(CertknockGrants grants) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        SigningCa ca = SigningCa.open(new CaStore(CaDirectory.open(db)), PASSWORD);
        Instant now = Instant.now();
        return ca.sign(new BigInteger(64, random).add(BigInteger.ONE), new X500Name("CN=mallory"), g.generateKeyPair().getPublic(),
                now.minusSeconds(60), now.plus(Duration.ofHours(1)), List.of(
                        new Extension(Extension.basicConstraints, true, der(new BasicConstraints(false))),
                        new Extension(Extension.keyUsage, true, der(new KeyUsage(KeyUsage.digitalSignature))),
                        new Extension(Extension.extendedKeyUsage, false,
                                der(new ExtendedKeyUsage(KeyPurposeId.getInstance(CertknockOids.KP_CLIENT)))),
                        GrantsExtension.toExtension(grants)));
    }

    private static byte[] der(org.bouncycastle.asn1.ASN1Object o) throws IOException {
        return o.getEncoded(ASN1Encoding.DER);
    }
}
