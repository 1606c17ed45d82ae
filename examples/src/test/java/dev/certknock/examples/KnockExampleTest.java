package dev.certknock.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.client.knock.OpenConfirmation;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.app.KnockServer;
import dev.certknock.server.app.ServerMaterial;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import dev.certknock.testing.wait.Await;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example of docs/CLIENT.md section 8 is this module's {@link KnockExample}, byte for byte, and it knocks: run
 * against a whole knock-server on loopback (UDP socket capture, the log firewall, the real clock), the server
 * accepts the knock, replies, and holds the grant.
 */
class KnockExampleTest {

    private static final String SERVER_NAME = "gw1.example.test";
    private static final char[] PASSWORD = "example password".toCharArray();

    @TempDir
    Path dir;

    @Test
    void theDocumentedExampleIsThisModulesSourceFile() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "CLIENT.md"));
        int section = doc.indexOf("\n## 8. ");
        assertThat(section).as("docs/CLIENT.md has a section 8").isPositive();
        int start = doc.indexOf("```java\n", section);
        assertThat(start).as("section 8 opens with a java block").isPositive();
        start += "```java\n".length();
        String block = doc.substring(start, doc.indexOf("```\n", start));
        String source = Files.readString(Path.of("src", "main", "java", "dev", "certknock", "examples",
                "KnockExample.java"));
        assertThat(block).as("docs/CLIENT.md section 8 must show examples/src/main/java/dev/certknock/examples/"
                + "KnockExample.java exactly: copy the file into the block").isEqualTo(source);
    }

    @Test
    void theExampleKnocksAndTheServerOpensTheGrant() throws Exception {
        MutableClock clock = MutableClock.at(Instant.now());
        TestCa ca = TestCa.root("CN=example CA", clock);
        IssuedCertificate server = ca.leaf("CN=" + SERVER_NAME).dnsName(SERVER_NAME).ipAddress("127.0.0.1")
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        CertknockGrants grants = CertknockGrants.of(PortGrant.parse("tcp/1024-65535")).withMaxOpenSeconds(300)
                .withServers(List.of(SERVER_NAME));
        IssuedCertificate alice = ca.leaf("CN=alice").keyType(KeyType.P256)
                .extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(grants)).build();

        writeBundle(dir.resolve("alice.p12"), alice, ca);
        writeBundle(dir.resolve("server.p12"), server, ca);
        Files.writeString(dir.resolve("gw1.pem"), pem(server.certificate().getEncoded()));
        Files.writeString(dir.resolve("ca.pem"), pem(ca.certificate().getEncoded()));
        Files.writeString(dir.resolve("password.txt"), new String(PASSWORD) + "\n");
        Files.write(dir.resolve("crl.der"), ca.crl().build().getEncoded());
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
                protect: [tcp/1024-65535]
                capture:
                  address: 127.0.0.1
                  port: 0
                """.formatted(SERVER_NAME, dir.resolve("crl.der").toUri()));

        InetAddress loopback = InetAddress.getLoopbackAddress();
        // The log firewall opens nothing: a listener stands for the service behind the opened port.
        try (KnockServer knockServer = KnockServer.start(ServerMaterial.load(config), Clock.systemUTC());
                ServerSocket service = new ServerSocket(0, 5, loopback)) {
            // The server fetches its CRL in the background after start; a knock before it arrives is refused.
            Await.until("the CRL", Duration.ofSeconds(15), Duration.ofMillis(20),
                    () -> !knockServer.crls().store().infos().isEmpty());
            int tcpPort = service.getLocalPort();
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            OpenConfirmation opened;
            PrintStream stdout = System.out;
            System.setOut(new PrintStream(tee(stdout, printed), true, StandardCharsets.UTF_8));
            try {
                opened = KnockExample.knockAndWait(dir.resolve("alice.p12"), PASSWORD.clone(), dir.resolve("gw1.pem"),
                        "127.0.0.1", knockServer.knockAddress().getPort(), tcpPort);
            } finally {
                System.setOut(stdout);
            }

            assertThat(opened.status()).isEqualTo(OpenConfirmation.Status.OPENED);
            assertThat(opened.knocksSent()).as("accepted at the first knock").isEqualTo(1);
            assertThat(printed.toString(StandardCharsets.UTF_8)).as("the server's reply confirmed the knock")
                    .startsWith("open for 120 s for /127.0.0.1:");
            assertThat(knockServer.counters().accepted()).isEqualTo(1);
            List<GrantDecision> active = knockServer.firewall().active(Instant.now());
            assertThat(active).singleElement().satisfies(g -> {
                assertThat(g.address()).isEqualTo(loopback);
                assertThat(g.grants()).containsExactly(PortGrant.parse("tcp/" + tcpPort));
                assertThat(g.subject().getName()).isEqualTo("CN=alice");
            });
        }
    }

    private static void writeBundle(Path file, IssuedCertificate holder, TestCa ca) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("knock", holder.privateKey(), PASSWORD,
                new Certificate[] {holder.certificate(), ca.certificate()});
        try (OutputStream out = Files.newOutputStream(file)) {
            ks.store(out, PASSWORD);
        }
    }

    private static String pem(byte[] der) {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END CERTIFICATE-----\n";
    }

    private static OutputStream tee(OutputStream a, OutputStream b) {
        return new OutputStream() {
            @Override
            public void write(int c) throws java.io.IOException {
                a.write(c);
                b.write(c);
            }

            @Override
            public void write(byte[] bytes, int off, int len) throws java.io.IOException {
                a.write(bytes, off, len);
                b.write(bytes, off, len);
            }
        };
    }
}
