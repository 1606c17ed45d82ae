package dev.certknock.server.app;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.cli.KnockServerCommand;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.pki.IssuedCertificate;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short-lived client certificate (two minutes, as {@code knock-ca issue-client --valid-for 2m} makes it:
 * notBefore backdated five minutes) knocks a whole server on loopback asking for longer than the certificate has
 * left: the grant ends at the certificate's notAfter, to the second, in the ledger and in {@code status}; after
 * the notAfter the certificate is refused.
 */
class ShortLivedCertificateGrantTest {

    private static final java.net.Inet4Address LOOPBACK = ServerFixture.ipv4("127.0.0.1");

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();

    private static void send(InetSocketAddress to, byte[] datagram) throws Exception {
        ServerFixture.sendFromLoopback(to, datagram);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(15), Duration.ofMillis(20), condition);
    }

    @Test
    void aTwoMinuteCertificatesGrantEndsAtItsNotAfterNotLater() throws Exception {
        Instant issuedAt = f.clock.instant();
        Instant notAfter = issuedAt.plus(Duration.ofMinutes(2));
        // the validity knock-ca gives --valid-for 2m: backdated 5 minutes for clock skew, ending 2 minutes after issue
        IssuedCertificate shortLived = f.client("alice").validity(issuedAt.minus(Duration.ofMinutes(5)), notAfter).build();
        assertThat(shortLived.certificate().getNotAfter().toInstant()).isEqualTo(notAfter);
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            f.clock.advance(Duration.ofSeconds(17)); // 103 s of the certificate left
            // asks for 300 s, which the certificate's maxOpenSeconds (300) and the server allow
            send(server.knockAddress(), f.knock(shortLived, ServerFixture.ssh(300).withDeclaredIpv4(LOOPBACK)));
            await("the grant", () -> server.counters().accepted() == 1);

            GrantDecision grant = server.firewall().active(f.clock.instant()).get(0);
            assertThat(grant.duration()).isEqualTo(Duration.ofSeconds(103));
            assertThat(grant.openedAt().plus(grant.duration())).isEqualTo(notAfter);

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = KnockServerCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), "status",
                    "--config", config.toString(), "--json");
            assertThat(code).as("stderr: %s", err).isZero();
            JsonNode json = new ObjectMapper().readTree(out.toString());
            assertThat(json.get("grants")).hasSize(1);
            assertThat(json.get("grants").get(0).get("expiresAt").asText()).isEqualTo(notAfter.toString());

            // At the notAfter the grant is gone, and a new knock with the certificate is refused.
            f.clock.advance(Duration.ofSeconds(103));
            assertThat(server.firewall().active(f.clock.instant())).isEmpty();
            send(server.knockAddress(), f.knock(shortLived, ServerFixture.ssh(300).withDeclaredIpv4(LOOPBACK)));
            await("the refusal", () -> server.counters().dropped(DropReason.CERTIFICATE_EXPIRED) == 1);
            assertThat(server.counters().accepted()).isEqualTo(1);
        }
    }
}
