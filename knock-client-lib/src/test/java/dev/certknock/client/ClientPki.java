package dev.certknock.client;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.testing.pki.CertificateBuilder;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * A small PKI for client tests: a root CA, a server certificate for gw1.example.test with a knock key, and
 * client certificates with certknock grants. The clock is fixed; tests advance it.
 */
public final class ClientPki {

    public static final Instant NOW = Instant.parse("2026-11-22T10:15:30.123Z");
    public static final String SERVER_NAME = "gw1.example.test";

    /** Grants of the default client: ssh, a UDP range, and the unprivileged TCP ports tests listen on. */
    public static final CertknockGrants DEFAULT_GRANTS = new CertknockGrants(List.of(PortGrant.parse("tcp/22"),
            PortGrant.parse("udp/8000-8100"), PortGrant.parse("tcp/1024-65535")),
            java.util.OptionalInt.of(300), List.of(), List.of());

    public final MutableClock clock = MutableClock.at(NOW);
    public final TestCa ca = TestCa.root("CN=certknock test root", clock);
    public final IssuedCertificate server;
    public final IssuedCertificate client;

    public ClientPki() {
        this(KeyType.P256, KeyType.P256);
    }

    public ClientPki(KeyType serverKeyType, KeyType clientKeyType) {
        server = serverBuilder(ca, serverKeyType).build();
        client = clientBuilder(ca, DEFAULT_GRANTS).keyType(clientKeyType).build();
    }

    public static CertificateBuilder serverBuilder(TestCa ca, KeyType keyType) {
        // Tests knock on loopback: the certificate names it, as one for a server knocked on by address does
        return ca.leaf("CN=" + SERVER_NAME).keyType(keyType).dnsName(SERVER_NAME).ipAddress("127.0.0.1").ipAddress("::1")
                .keyUsage(keyType == KeyType.X25519 ? KeyUsage.keyAgreement : KeyUsage.keyAgreement | KeyUsage.digitalSignature)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId());
    }

    public static CertificateBuilder clientBuilder(TestCa ca, CertknockGrants grants) {
        return ca.leaf("CN=alice").extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(grants));
    }

    /** The client's identity: its key, its certificate and the root (which becomes the trust anchor). */
    public ClientIdentity identity() {
        return identityOf(client);
    }

    public ClientIdentity identityOf(IssuedCertificate c) {
        List<X509Certificate> certs = new ArrayList<>(c.chain());
        certs.add(ca.certificate());
        try {
            return ClientIdentity.of(c.privateKey(), certs);
        } catch (IdentityException e) {
            throw new IllegalStateException(e);
        }
    }

    public KnockOpener opener() {
        return KnockOpener.of(ServerPrivateKey.of(server.privateKey(), server.certificate()));
    }

    /** Writes a PKCS#12 bundle as a CA would: the key under "alice" with its chain up to and including the root. */
    public Path writeBundle(Path file, char[] password) throws Exception {
        return writeBundle(file, password, client);
    }

    public Path writeBundle(Path file, char[] password, IssuedCertificate c) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        List<Certificate> chain = new ArrayList<>(c.chain());
        chain.add(ca.certificate());
        store.setKeyEntry("alice", c.privateKey(), password, chain.toArray(new Certificate[0]));
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        return file;
    }

    /** PEM text of a certificate. */
    public static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                        .encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }
}
