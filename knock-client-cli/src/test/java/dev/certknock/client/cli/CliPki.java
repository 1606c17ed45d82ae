package dev.certknock.client.cli;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * Files a user holds, made with the test PKI at the real time (the CLI uses the system clock): a PKCS#12 bundle
 * (key, certificate, root), its password in a file, and the server certificate as PEM. Also runs knock.
 */
final class CliPki {

    static final String PASSWORD = "open sesame";
    static final CertknockGrants GRANTS = new CertknockGrants(List.of(PortGrant.parse("tcp/22"),
            PortGrant.parse("udp/8000-8100"), PortGrant.parse("tcp/1024-65535")), OptionalInt.of(300), List.of(),
            List.of());

    final MutableClock clock = MutableClock.atSystemTime();
    final TestCa ca = TestCa.root("CN=certknock test root", clock);
    final IssuedCertificate server = ca.leaf("CN=gw1.example.test").dnsName("gw1.example.test").dnsName("localhost")
            .ipAddress("127.0.0.1").ipAddress("::1")
            .keyUsage(KeyUsage.keyAgreement | KeyUsage.digitalSignature)
            .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
    final IssuedCertificate client = ca.leaf("CN=alice").extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
            .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(GRANTS)).build();
    final Path dir;
    final Path bundle;
    final Path passwordFile;
    final Path serverPem;
    final Path targets;

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final Map<String, String> env = new HashMap<>();
    byte[] stdin = new byte[0];
    final ByteArrayOutputStream stdout = new ByteArrayOutputStream();

    CliPki(Path dir) throws Exception {
        this.dir = dir;
        bundle = dir.resolve("alice.p12");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("alice", client.privateKey(), PASSWORD.toCharArray(),
                new Certificate[] {client.certificate(), ca.certificate()});
        try (OutputStream o = Files.newOutputStream(bundle)) {
            store.store(o, PASSWORD.toCharArray());
        }
        passwordFile = Files.writeString(dir.resolve("password.txt"), PASSWORD + "\n");
        serverPem = Files.writeString(dir.resolve("gw1.pem"), pem(server.certificate()));
        targets = dir.resolve("config").resolve("targets.yaml");
    }

    static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    KnockOpener opener() {
        return KnockOpener.of(ServerPrivateKey.of(server.privateKey(), server.certificate()));
    }

    /** Runs knock with this PKI's environment and streams; output accumulates in out/err/stdout. */
    int knock(String... args) {
        CliContext context = CliContext.of(env, new ByteArrayInputStream(stdin), stdout, dir.resolve("home"));
        return KnockCommand.run(context, new PrintWriter(out), new PrintWriter(err), args);
    }

    /** The arguments naming the bundle, its password file and the server certificate. */
    String[] credentials(String... more) {
        String[] base = {"--bundle", bundle.toString(), "--password-file", passwordFile.toString(),
            "--server-cert", serverPem.toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(more, 0, all, 0, more.length);
        System.arraycopy(base, 0, all, more.length, base.length);
        return all;
    }

    void reset() {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        stdout.reset();
    }
}
