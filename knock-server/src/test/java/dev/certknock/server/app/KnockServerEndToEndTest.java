package dev.certknock.server.app;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.TricklingHttpSource;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.http.CrlServer;
import dev.certknock.testing.pki.IssuedCertificate;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole server on loopback: a UDP socket receives knocks, CRLs come from a real HTTP server on a
 * one-second schedule, grants go to the log firewall, the replay journal is on disk.
 */
class KnockServerEndToEndTest {

    /** The knocks go over loopback, so they declare (sign) 127.0.0.1. */
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

    /** CRL files in the cache directory (each written atomically: one that is there is complete). */
    private long cachedCrls() {
        try (var files = Files.list(dir.resolve("crl-cache"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".crl")).count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private Path config(CrlServer crlServer) throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "logging:\n  audit: audit.jsonl\n");
        Files.writeString(config, Files.readString(config)
                .replace("url: " + dir.resolve("crl.der").toUri(), "url: " + crlServer.uri("/ca.crl"))
                .replace("  cacheDir: crl-cache", "  cacheDir: crl-cache\n  refreshInterval: 1s"));
        return config;
    }

    @Test
    void knockGrantRevokeAndReplayAcrossARestart() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        try (CrlServer crlServer = CrlServer.start()) {
            crlServer.publish("/ca.crl", f.ca.crl().number(1).build().getEncoded());
            ServerMaterial material = ServerMaterial.load(config(crlServer));
            byte[] knock = f.knock(alice, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK));

            try (KnockServer server = KnockServer.start(material, f.clock)) {
                // Start-up does not wait for the sources: the first CRL arrives in the background.
                await("the first CRL", () -> !server.crls().store().infos().isEmpty());
                send(server.knockAddress(), knock);
                await("the grant", () -> !server.firewall().active(f.clock.instant()).isEmpty());
                var grant = server.firewall().active(f.clock.instant()).get(0);
                assertThat(grant.address()).isEqualTo(java.net.InetAddress.getLoopbackAddress());
                assertThat(grant.grants()).containsExactly(PortGrant.parse("tcp/22"));
                assertThat(grant.duration()).isEqualTo(Duration.ofSeconds(120));

                // Junk and the replayed datagram: no new grant, counted, and the server answers nothing.
                send(server.knockAddress(), new byte[] {1, 9, 3});
                send(server.knockAddress(), knock);
                await("the drops", () -> server.counters().dropped(DropReason.REPLAY) == 1
                        && server.counters().dropped(DropReason.UNSUPPORTED_SUITE) == 1);

                // Revocation reaches the open door on the next scheduled refresh.
                crlServer.publish("/ca.crl", f.ca.crl().number(2).revoke(alice.certificate()).build().getEncoded());
                await("the revoked grant to close", () -> server.firewall().active(f.clock.instant()).isEmpty());
                send(server.knockAddress(), f.knock(alice, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK)));
                await("the revoked knock to be refused", () -> server.counters().dropped(DropReason.REVOKED) == 1);
                assertThat(server.counters().accepted()).isEqualTo(1);
                // The periodic statistics line carries the same figures, the capture's among them.
                assertThat(server.statsLine()).startsWith("received 4, accepted 1, dropped {")
                        .contains("REPLAY=1", "UNSUPPORTED_SUITE=1", "REVOKED=1", "stale-CRL issuers 0",
                                "open grants 0", "capture {received=4 refusedBySink=0}");
            }

            // After a restart the replayed datagram is still refused (the journal), a fresh knock by
            // another client is accepted.
            try (KnockServer server = KnockServer.start(material, f.clock)) {
                send(server.knockAddress(), knock);
                await("the replay after restart", () -> server.counters().dropped(DropReason.REPLAY) == 1);
                send(server.knockAddress(), f.knock(f.client("bob").build(), ServerFixture.ssh(30).withDeclaredIpv4(LOOPBACK)));
                await("bob's grant", () -> server.counters().accepted() == 1);
            }
        }
        List<String> audit = Files.readAllLines(dir.resolve("audit.jsonl"));
        assertThat(audit).anySatisfy(l -> assertThat(l).contains("\"event\":\"accepted\"").contains("CN=alice"));
        assertThat(audit).anySatisfy(l -> assertThat(l).contains("\"event\":\"grant-closed\"").contains("\"why\":\"revoked\""));
        assertThat(audit).anySatisfy(l -> assertThat(l).contains("\"reason\":\"REPLAY\""));
        assertThat(audit).anySatisfy(l -> assertThat(l).contains("\"event\":\"crl-accepted\""));
        assertThat(audit).allSatisfy(l -> assertThat(l).contains("\"time\":\"" + Instant.parse("2026-11-22T10:00:00Z").toString().substring(0, 13)));
    }

    @Test
    void aRootCrlRevokingAnIntermediateClosesEveryGrantIssuedBelowItAndKeepsTheOthers() throws Exception {
        var intermediate = f.ca.intermediate("CN=certknock issuing CA").build();
        var ssh = dev.certknock.protocol.grant.CertknockGrants.of(PortGrant.parse("tcp/22")).withMaxOpenSeconds(300)
                .withServers(List.of(ServerFixture.SERVER_NAME));
        IssuedCertificate carol = ServerFixture.client(intermediate, "carol", ssh).build();
        IssuedCertificate dave = ServerFixture.client(intermediate, "dave", ssh).build();
        IssuedCertificate alice = f.client("alice").build();
        try (CrlServer crlServer = CrlServer.start()) {
            crlServer.publish("/ca.crl", f.ca.crl().number(1).build().getEncoded());
            crlServer.publish("/intermediate.crl", intermediate.crl().number(1).build().getEncoded());
            Files.writeString(dir.resolve("intermediate.pem"), ServerFixture.pem("CERTIFICATE",
                    intermediate.certificate().getEncoded()));
            Path config = config(crlServer);
            Files.writeString(config, Files.readString(config)
                    .replace("  anchors: [ca.pem]", "  anchors: [ca.pem]\n  intermediates: [intermediate.pem]")
                    .replace("    - url: " + crlServer.uri("/ca.crl"), "    - url: " + crlServer.uri("/ca.crl")
                            + "\n    - url: " + crlServer.uri("/intermediate.crl")));
            ServerMaterial material = ServerMaterial.load(config);
            try (KnockServer server = KnockServer.start(material, f.clock)) {
                await("both CRLs", () -> server.crls().store().infos().size() == 2);
                // three holders of one element (127.0.0.1 tcp/22): two below the intermediate, one not
                for (IssuedCertificate c : List.of(carol, dave, alice)) {
                    send(server.knockAddress(), f.knock(c, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK)));
                }
                await("three grants", () -> server.firewall().active(f.clock.instant()).size() == 3);

                crlServer.publish("/ca.crl", f.ca.crl().number(2).revoke(intermediate.certificate()).build().getEncoded());
                await("the grants below the intermediate to close",
                        () -> server.firewall().active(f.clock.instant()).size() == 1);
                assertThat(server.firewall().active(f.clock.instant())).singleElement()
                        .satisfies(d -> assertThat(d.subject().getName()).contains("alice"));
                send(server.knockAddress(), f.knock(carol, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK)));
                await("carol's new knock to be refused", () -> server.counters().dropped(DropReason.REVOKED) == 1);
            }
        }
        List<String> audit = Files.readAllLines(dir.resolve("audit.jsonl"));
        assertThat(audit).filteredOn(l -> l.contains("\"event\":\"grant-closed\"") && l.contains("\"why\":\"revoked\""))
                .hasSize(2).noneMatch(l -> l.contains("alice"));
    }

    @Test
    void startUpDoesNotWaitForASourceThatTricklesItsHeaders() throws Exception {
        try (CrlServer crlServer = CrlServer.start(); TricklingHttpSource trickle = new TricklingHttpSource(Duration.ofMillis(200))) {
            crlServer.publish("/ca.crl", f.ca.crl().number(1).build().getEncoded());
            Path config = config(crlServer);
            ServerMaterial material = ServerMaterial.load(config);
            try (KnockServer server = KnockServer.start(material, f.clock)) {
                // in force, and written to the cache file (stopping earlier would interrupt the write)
                await("the CRL in the cache", () -> !server.crls().store().infos().isEmpty() && cachedCrls() > 0);
            }
            // Now the only source trickles (default timeouts: a 15 s fetch deadline); the cached CRL is verified
            // and in force at once, and knocks are served while the source is still being waited for.
            Files.writeString(config, Files.readString(config).replace(crlServer.uri("/ca.crl").toString(),
                    trickle.uri("/ca.crl").toString()));
            ServerMaterial trickling = ServerMaterial.load(config);
            try (KnockServer server = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> KnockServer.start(trickling, f.clock))) {
                send(server.knockAddress(), f.knock(f.client("alice").build(), ServerFixture.ssh(60).withDeclaredIpv4(LOOPBACK)));
                await("alice's grant", () -> server.counters().accepted() == 1);
                assertThat(trickle.trickling()).as("the source is still being fetched").isTrue();
            }
            // Without a cached CRL: capture starts all the same and knocks are refused until a CRL arrives.
            try (var files = Files.walk(dir.resolve("crl-cache"))) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            try (KnockServer server = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> KnockServer.start(trickling, f.clock))) {
                send(server.knockAddress(), f.knock(f.client("bob").build(), ServerFixture.ssh(60).withDeclaredIpv4(LOOPBACK)));
                await("the refusal", () -> server.counters().dropped(DropReason.REVOCATION_UNAVAILABLE) == 1);
                assertThat(trickle.trickling()).isTrue();
            }
        }
    }

    @Test
    void withoutAnyCrlEveryKnockIsRefused() throws Exception {
        try (CrlServer crlServer = CrlServer.start()) {
            crlServer.fail("/ca.crl", 404);
            ServerMaterial material = ServerMaterial.load(config(crlServer));
            try (KnockServer server = KnockServer.start(material, f.clock)) {
                send(server.knockAddress(), f.knock(f.client("alice").build(), ServerFixture.ssh(60).withDeclaredIpv4(LOOPBACK)));
                await("the refusal", () -> server.counters().dropped(DropReason.REVOCATION_UNAVAILABLE) == 1);
                assertThat(server.firewall().active(f.clock.instant())).isEmpty();
                await("the stale-CRL gauge", () -> server.counters().staleCrlIssuers() == 1);
            }
        }
    }
}
