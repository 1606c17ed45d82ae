package dev.certknock.server.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.KnockTarget;
import dev.certknock.client.token.Pkcs11Token;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.app.KnockServer;
import dev.certknock.server.app.ServerMaterial;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.token.SoftHsm;
import dev.certknock.testing.wait.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A knock signed by a key on a PKCS#11 token (SoftHSM2), sent by knock-client-lib's {@link KnockClient} over
 * loopback to the real {@link KnockServer} (UDP socket capture, log firewall, CRL, replay journal): the server
 * accepts it and opens the grant, and the key never leaves the token. A second key on the same token, whose
 * certificate the CRL revokes, is refused: the server really checks what the token signed.
 */
class TokenKnockTest {

    private static final String SO_PIN = "so-pin-24680";
    private static final char[] PIN = "pin-13579".toCharArray();
    private static final java.net.Inet4Address LOOPBACK = ServerFixture.ipv4("127.0.0.1");

    @TempDir
    Path dir;

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(15), Duration.ofMillis(20), condition);
    }

    @Test
    void aKnockSignedOnTheTokenOpensTheGrantOnTheRealServerAndARevokedTokenKeyIsRefused() throws Exception {
        assumeTrue(Files.isRegularFile(SoftHsm.MODULE), SoftHsm.MODULE + " is missing: install Debian's softhsm2 "
                + "(CI's .ci/run does) to run the token knock test");
        String label = SoftHsm.initToken("certknock-server", SO_PIN, new String(PIN));
        ServerFixture f = new ServerFixture(Instant.now());
        try (Pkcs11Token token = Pkcs11Token.open(SoftHsm.MODULE, label, PIN)) {
            KeyPair aliceKey = token.generateKey("alice", "alice");
            IssuedCertificate alice = f.client("alice").keyPair(aliceKey).build();
            token.installCertificate("alice", List.of(alice.certificate(), f.ca.certificate()));
            KeyPair malloryKey = token.generateKey("mallory", "mallory");
            IssuedCertificate mallory = f.client("mallory").keyPair(malloryKey).build();
            token.installCertificate("mallory", List.of(mallory.certificate(), f.ca.certificate()));

            Path config = f.writeConfig(dir, f.ca.crl().number(1).revoke(mallory.certificate()).build(),
                    "logging:\n  audit: audit.jsonl\n");
            try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
                await("the CRL", () -> !server.crls().store().infos().isEmpty());
                KnockTarget target = KnockTarget.of("127.0.0.1", f.server.certificate())
                        .withKnockPort(server.knockAddress().getPort());
                KnockClient client = KnockClient.builder(token.identity("alice"), target).clock(f.clock)
                        .serverName(ServerFixture.SERVER_NAME).build();
                KnockReceipt receipt = client.knock(List.of(PortGrant.parse("tcp/22")),
                        KnockOptions.defaults().withDurationSeconds(120));

                await("the token-signed knock's grant", () -> !server.firewall().active(f.clock.instant()).isEmpty());
                var grant = server.firewall().active(f.clock.instant()).get(0);
                assertThat(grant.address()).isEqualTo(LOOPBACK);
                assertThat(grant.grants()).containsExactly(PortGrant.parse("tcp/22"));
                assertThat(grant.duration()).isEqualTo(Duration.ofSeconds(120));
                assertThat(grant.subject().getName()).contains("CN=alice");
                assertThat(receipt.declaredIpv4()).contains(LOOPBACK);
                assertThat(server.counters().accepted()).isEqualTo(1);

                // The same token, another key: signed there just as well, but its certificate is revoked.
                KnockClient revoked = KnockClient.builder(token.identity("mallory"), target).clock(f.clock)
                        .serverName(ServerFixture.SERVER_NAME).build();
                revoked.knock(List.of(PortGrant.parse("tcp/22")), KnockOptions.defaults().withoutReply());
                await("the revoked token key's knock to be refused",
                        () -> server.counters().dropped(DropReason.REVOKED) == 1);
                assertThat(server.counters().accepted()).isEqualTo(1);
                assertThat(server.firewall().active(f.clock.instant())).singleElement()
                        .satisfies(g -> assertThat(g.subject().getName()).contains("CN=alice"));
            }
            assertThat(token.privateKey("alice").getEncoded()).as("the key's material stays on the token").isNull();
        }
        assertThat(Files.readAllLines(dir.resolve("audit.jsonl")))
                .anySatisfy(l -> assertThat(l).contains("\"event\":\"accepted\"").contains("CN=alice"));
    }
}
