package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.ca.cli.KnockCaCommand;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.token.Pkcs11Token;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.testing.token.SoftHsm;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hardware key end to end on SoftHSM2: knock-ca csr makes a P-256 key on the token (sensitive, never
 * extractable) and a request signed there; the CA certifies it (issue-client --csr); knock-ca bundle stores the
 * certificate on the token; knock signs a knock with the key through SunPKCS11 and a loopback knock v2 server
 * (the server's KnockOpener: decrypts and checks the signature) accepts it. The PIN only ever travels in a file
 * or an environment variable. One token for the class: SoftHSM reads its token directory when this JVM first
 * loads it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HardwareKeyTest {

    private static final String SO_PIN = "so-pin-97531";
    private static final String PIN = "pin-8642";
    private static final String MODULE = SoftHsm.MODULE.toString();

    @TempDir
    static Path dir;

    static String token;
    static Path pinFile;
    static Path caDir;
    static Path caPass;
    static Path bundlePass;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void tokenAndCa() throws Exception {
        token = SoftHsm.initToken("certknock", SO_PIN, PIN);
        pinFile = Files.writeString(dir.resolve("pin.txt"), PIN + "\n");
        caPass = Files.writeString(dir.resolve("ca.pass"), "ca password for the test\n");
        bundlePass = Files.writeString(dir.resolve("bundle.pass"), "bundle password for the test\n");
        caDir = dir.resolve("ca");
        StringWriter initErr = new StringWriter();
        assertThat(KnockCaCommand.run(new PrintWriter(new StringWriter()), new PrintWriter(initErr, true),
                "init", "--dir", caDir.toString(), "--name", "Test certknock CA", "--crl-url",
                "http://ca.example.test/certknock.crl", "--ca-password-file", caPass.toString()))
                .as(initErr.toString()).isZero();
        assertThat(KnockCaCommand.run(new PrintWriter(new StringWriter()), new PrintWriter(initErr, true),
                "issue-server", "--dir", caDir.toString(), "gw1.example.test", "--ip", "127.0.0.1", "--out", dir.resolve("gw1.p12").toString(),
                "--ca-password-file", caPass.toString(), "--bundle-password-file", bundlePass.toString()))
                .as(initErr.toString()).isZero();
        X509Certificate serverCert = null;
        KeyStore server = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("gw1.p12"))) {
            server.load(in, "bundle password for the test".toCharArray());
        }
        serverCert = (X509Certificate) server.getCertificate(server.aliases().nextElement());
        Files.writeString(dir.resolve("gw1.pem"), CliPki.pem(serverCert));
    }

    private int knockCa(String... args) {
        return KnockCaCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private int knock(java.util.Map<String, String> env, String... args) {
        CliContext context = CliContext.of(env, InputStream.nullInputStream(), new java.io.ByteArrayOutputStream(),
                dir.resolve("home"));
        return KnockCommand.run(context, new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private String[] onToken(String keyLabel, String... more) {
        List<String> all = new ArrayList<>(List.of(more));
        all.addAll(List.of("--pkcs11-module", MODULE, "--token-label", token, "--key-label", keyLabel));
        return all.toArray(String[]::new);
    }

    private void reset() {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
    }

    @Test
    @Order(2)
    void aKeyMadeOnTheTokenIsCertifiedSignsAKnockTheServerAcceptsAndNeverLeavesTheToken() throws Exception {
        // The server: a certificate from the same CA, its key in a bundle.
        Path serverBundle = dir.resolve("gw1.p12");
        KeyStore server = KeyStore.getInstance("PKCS12");
        char[] bp = "bundle password for the test".toCharArray();
        try (InputStream in = Files.newInputStream(serverBundle)) {
            server.load(in, bp);
        }
        String serverAlias = server.aliases().nextElement();
        X509Certificate serverCert = (X509Certificate) server.getCertificate(serverAlias);
        Path serverPem = dir.resolve("gw1.pem");
        KnockOpener opener = KnockOpener.of(ServerPrivateKey.of((PrivateKey) server.getKey(serverAlias, bp), serverCert));

        // The client: key and request on the token, certificate from the CA, stored on the token.
        Path csr = dir.resolve("alice.csr");
        reset();
        assertThat(knockCa(onToken("alice", "csr", "alice", "--out", csr.toString(), "--pin-file", pinFile.toString())))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("Made a P-256 key 'alice' on token '" + token + "'");
        Path cert = dir.resolve("alice.pem");
        assertThat(knockCa("issue-client", "--dir", caDir.toString(), "alice", "--grant", "tcp/22", "--server",
                "gw1.example.test", "--csr", csr.toString(), "--out", cert.toString(), "--ca-password-file",
                caPass.toString())).as(err.toString()).isZero();

        // Until the CA's certificate is on the token, knock refuses the placeholder.
        java.util.Map<String, String> env = java.util.Map.of("TOKEN_PIN", PIN);
        reset();
        assertThat(knock(env, onToken("alice", "127.0.0.1", "tcp/22", "--server-cert", serverPem.toString(),
                "--pin-env", "TOKEN_PIN", "--dry-run"))).isEqualTo(4);
        assertThat(err.toString()).contains("key 'alice' on token '" + token + "' has no certificate from the CA yet");

        reset();
        assertThat(knockCa(onToken("alice", "bundle", "--cert", cert.toString(), "--pin-file", pinFile.toString())))
                .as(err.toString()).isZero();
        assertThat(out.toString()).startsWith("Stored CN=alice (valid until ");

        try (ReplyServer gw = new ReplyServer(opener, null, false, System::currentTimeMillis)) {
            reset();
            int rc = knock(env, onToken("alice", "127.0.0.1", "tcp/22", "--server-cert", serverPem.toString(),
                    "--knock-port", gw.port(), "--pin-env", "TOKEN_PIN", "--no-address-cache", "-v"));
            assertThat(rc).as(err.toString()).isZero();
            assertThat(gw.failures()).isEmpty();
            assertThat(gw.knocks()).hasSize(1);
            assertThat(out.toString()).contains("opened tcp/22 for 60 s", "(confirmed by the server)",
                    "  key         on the PKCS#11 token (KnockSigner[ECDSA_P256_SHA256 via JCA, key redacted])");
            var verified = gw.knocks().get(0).verified();
            assertThat(verified.content().grants()).containsExactly(PortGrant.parse("tcp/22"));
            // The chain the knock carries leads to the CA, as the server checks it.
            X509Certificate root = PemFiles.certificate(caDir.resolve("ca.pem"));
            List<X509Certificate> chain = verified.content().chain();
            assertThat(chain.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=alice");
            PKIXParameters pkix = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
            pkix.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain),
                    pkix);
        }

        // Non-extractable: the JCA key has no encoding, and the token says sensitive, never extractable.
        try (Pkcs11Token t = Pkcs11Token.open(SoftHsm.MODULE, token, PIN.toCharArray())) {
            PrivateKey key = t.privateKey("alice");
            assertThat(key.getAlgorithm()).isEqualTo("EC");
            assertThat(key.getEncoded()).isNull();
            assertThat(key.getFormat()).isNull();
        }
        String objects = SoftHsm.pkcs11Tool("--token-label", token, "--login", "--pin", PIN, "--list-objects",
                "--type", "privkey");
        // The key shares its CKA_ID with its certificate ("alice"), the certificate's label names both.
        assertThat(objects).contains("Private Key Object; EC", "ID:         616c696365", "Usage:      sign\n")
                .containsPattern("Access:\\s+sensitive, always sensitive, never extractable, local");
        assertThatThrownBy(() -> SoftHsm.pkcs11Tool("--token-label", token, "--login", "--pin", PIN, "--read-object",
                "--type", "privkey", "--label", "alice")).hasMessageContaining("exited 1");
    }

    /** First: PKCS#11 logs in a process, and a knock leaves this JVM logged in (a knock process exits). */
    @Test
    @Order(1)
    void aWrongPinAnUnknownTokenOrKeyAndAPinOnTheCommandLineAreClearErrors() throws Exception {
        Path serverPem = dir.resolve("gw1.pem");
        String[] base = {"127.0.0.1", "tcp/22", "--server-cert", serverPem.toString(), "--dry-run", "--pkcs11-module", MODULE};

        assertThat(knock(java.util.Map.of("P", "wrong-pin"), concat(base, "--token-label", token, "--pin-env", "P")))
                .as(err.toString()).isEqualTo(4);
        assertThat(err.toString()).contains("the PIN does not open token '" + token + "'").doesNotContain("wrong-pin");

        reset();
        assertThat(knock(java.util.Map.of("P", PIN), concat(base, "--token-label", "no-such-token", "--pin-env", "P")))
                .isEqualTo(3);
        assertThat(err.toString()).contains("no token labelled 'no-such-token' in " + MODULE + "; its tokens: ")
                .contains("'" + token + "'").doesNotContain("''"); // not the blank token in the free slot

        reset();
        assertThat(knock(java.util.Map.of("P", PIN), concat(base, "--token-label", token, "--key-label", "nobody",
                "--pin-env", "P"))).isEqualTo(4);
        assertThat(err.toString()).contains("token '" + token + "' has no key labelled 'nobody'");

        reset();
        assertThat(knock(java.util.Map.of(), concat(base, "--token-label", token, "--pin", PIN))).isEqualTo(2);
        assertThat(err.toString()).contains("Unknown option: '--pin'");

        reset();
        assertThat(knock(java.util.Map.of(), concat(base, "--token-label", token))).isEqualTo(2);
        assertThat(err.toString()).contains("no terminal to ask for the PIN of token '" + token + "'");

        reset();
        assertThat(knock(java.util.Map.of(), concat(base, "--bundle", "x.p12"))).isEqualTo(2);
        assertThat(err.toString()).contains("give --bundle or --pkcs11-module (a key on a token), not both");

        assertThatThrownBy(() -> Pkcs11Token.open(dir.resolve("nothing.so"), token, PIN.toCharArray()))
                .isInstanceOf(IdentityException.class).hasMessageContaining("the PKCS#11 module")
                .hasMessageContaining("does not exist");
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }
}
