package dev.certknock.server;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.protocol.knock.ServerPublicKey;
import dev.certknock.testing.pki.CertificateBuilder;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/** A server's world for tests: a CA, a server knock key, clients with grants, and files on disk. */
public final class ServerFixture {

    public static final String SERVER_NAME = "gw1.example.test";
    public static final char[] PASSWORD = "bundle password".toCharArray();

    public final MutableClock clock;
    public final TestCa ca;
    public final IssuedCertificate server;
    public final ServerPrivateKey serverKey;

    /** A world at 2026-11-22T10:00:00Z, on a clock that moves only when told. */
    public ServerFixture() {
        this(Instant.parse("2026-11-22T10:00:00Z"));
    }

    /** A world whose certificates are valid around {@code now}: for tests against processes on the real clock. */
    public ServerFixture(Instant now) {
        clock = MutableClock.at(now);
        ca = TestCa.root("CN=certknock test CA", clock);
        server = ca.leaf("CN=" + SERVER_NAME).dnsName(SERVER_NAME).extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        serverKey = ServerPrivateKey.of(server.privateKey(), server.certificate());
    }

    /** A client builder with the client EKU and these grants (tcp/22 and udp/8000-8100, 300 s, this server). */
    public CertificateBuilder client(String cn) {
        return client(ca, cn, CertknockGrants.of(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8100"))
                .withMaxOpenSeconds(300).withServers(List.of(SERVER_NAME)));
    }

    public static CertificateBuilder client(TestCa issuer, String cn, CertknockGrants grants) {
        return issuer.leaf("CN=" + cn).keyType(KeyType.P256).extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(grants));
    }

    public byte[] knock(IssuedCertificate client, KnockRequest request) {
        return knock(client, request, ServerPublicKey.fromCertificate(server.certificate()));
    }

    /**
     * A v2 knock: a request that declares no address declares {@link #SOURCE_ADDRESS}, the source
     * {@code PipelineHarness} processes knocks from (a knock sent over a real socket declares its own).
     */
    public byte[] knock(IssuedCertificate client, KnockRequest request, ServerPublicKey to) {
        if (request.declaredIpv4().isEmpty() && request.declaredIpv6().isEmpty()) {
            request = request.withDeclaredIpv4(SOURCE_ADDRESS);
        }
        try {
            ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
            return new KnockSealer(cred, to, clock, new SecureRandom()).seal(request).datagram();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The address {@code PipelineHarness} processes knocks from, and what knocks declare unless told otherwise. */
    public static final java.net.Inet4Address SOURCE_ADDRESS = ipv4("198.51.100.7");

    public static java.net.Inet4Address ipv4(String literal) {
        try {
            return (java.net.Inet4Address) java.net.InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A v2 knock as the client holds it (it can read the server's reply); the request must declare an address. */
    public dev.certknock.protocol.knock.SealedKnock sealed(IssuedCertificate client, KnockRequest request) {
        try {
            ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
            return new KnockSealer(cred, ServerPublicKey.fromCertificate(server.certificate()), clock, new SecureRandom())
                    .seal(request);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A v1 knock, for a server that accepts v1 (nothing declared unless the request says so). */
    public byte[] knockV1(IssuedCertificate client, KnockRequest request) {
        try {
            ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
            return new KnockSealer(cred, ServerPublicKey.fromCertificate(server.certificate()), clock, new SecureRandom())
                    .withVersion(dev.certknock.protocol.knock.KnockVersion.V1).seal(request).datagram();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static KnockRequest ssh(int seconds) {
        return KnockRequest.of(seconds, List.of(PortGrant.parse("tcp/22")));
    }

    /** Writes bundle, password, CA and CRL files and a config.yaml into dir; returns the config path. */
    public Path writeConfig(Path dir, X509CRL crl, String extraYaml) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("knock", server.privateKey(), PASSWORD, new Certificate[] {server.certificate(), ca.certificate()});
        try (OutputStream out = Files.newOutputStream(dir.resolve("server.p12"))) {
            ks.store(out, PASSWORD);
        }
        Files.writeString(dir.resolve("password.txt"), new String(PASSWORD) + "\n");
        Files.writeString(dir.resolve("ca.pem"), pem("CERTIFICATE", ca.certificate().getEncoded()));
        Files.write(dir.resolve("crl.der"), crl.getEncoded());
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, """
                server:
                  name: %s
                  identities:
                    - bundle: server.p12
                      passwordFile: password.txt
                trust:
                  anchors: [ca.pem]
                crl:
                  sources:
                    - url: %s
                  cacheDir: crl-cache
                knock:
                  replayJournal: replay.journal
                protect: [tcp/22, udp/8000-8100]
                capture:
                  address: 127.0.0.1
                  port: 0
                """.formatted(SERVER_NAME, dir.resolve("crl.der").toUri()) + extraYaml);
        return config;
    }

    /**
     * Another identity of this server (a new knock key, certificate by the same CA), written as a PKCS#12 bundle under
     * the same password: what an operator rotating the server key puts beside the old bundle.
     */
    public IssuedCertificate writeIdentity(Path dir, String bundle) throws Exception {
        IssuedCertificate id = ca.leaf("CN=" + SERVER_NAME).dnsName(SERVER_NAME)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("knock", id.privateKey(), PASSWORD, new Certificate[] {id.certificate(), ca.certificate()});
        try (OutputStream out = Files.newOutputStream(dir.resolve(bundle))) {
            ks.store(out, PASSWORD);
        }
        return id;
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    public X509Certificate caCertificate() {
        return ca.certificate();
    }

    /** Sends one datagram from a fresh loopback socket (the knocks of in-process servers go over loopback). */
    public static void sendFromLoopback(java.net.InetSocketAddress to, byte[] datagram) throws java.io.IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            s.send(new java.net.DatagramPacket(datagram, datagram.length, to));
        }
    }
}
