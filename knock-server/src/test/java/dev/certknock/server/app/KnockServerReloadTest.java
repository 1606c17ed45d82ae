package dev.certknock.server.app;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.knock.ServerPublicKey;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.CaKey;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.reload.ReloadListener;
import dev.certknock.server.reload.ReloadResult;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloads of a running server (issue 11 item 3), through {@link KnockServer#reload()}, the entry point the SIGHUP
 * thread calls ({@code ReloadSignalsTest} sends the real signal to a real process): knocks over loopback UDP before
 * and after, a grant open across each reload, a broken or restart-only file refused with the old configuration still
 * in force, a server key rotated, a trust anchor added with its CRL, and the audit log reopened after a rename.
 */
class KnockServerReloadTest {

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

    private byte[] knock(IssuedCertificate client, IssuedCertificate serverIdentity) {
        return f.knock(client, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK),
                ServerPublicKey.fromCertificate(serverIdentity.certificate()));
    }

    private static void edit(Path config, String from, String to) throws Exception {
        String text = Files.readString(config);
        assertThat(text).contains(from);
        Files.writeString(config, text.replace(from, to));
    }

    private static final String ONE_IDENTITY = """
                - bundle: server.p12
                  passwordFile: password.txt
            """;

    @Test
    void aBrokenFileIsRefusedAtItsLineAndTheRunningConfigurationKeepsAccepting() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "metrics:\n  port: 0\n");
        String good = Files.readString(config);
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            send(server.knockAddress(), knock(alice, f.server));
            await("the grant", () -> server.counters().accepted() == 1);

            // A value out of range in an appended limits section: refused, with file:line.
            Files.writeString(config, good + "limits:\n  perSourceBurst: 0\n");
            int line = (int) good.lines().count() + 2;
            ReloadResult bad = server.reload();
            assertThat(bad).isInstanceOf(ReloadResult.Refused.class);
            assertThat(((ReloadResult.Refused) bad).reason()).startsWith(config + ":" + line + ":")
                    .contains("limits.perSourceBurst");

            // A bundle that is not there: refused at the line that names it.
            Files.writeString(config, good.replace("bundle: server.p12", "bundle: missing.p12"));
            ReloadResult missing = server.reload();
            assertThat(((ReloadResult.Refused) missing).reason()).startsWith(config + ":4:")
                    .contains("missing.p12", "no such file");

            // Not YAML at all.
            Files.writeString(config, "server: [unclosed\n");
            assertThat(server.reload()).isInstanceOf(ReloadResult.Refused.class);

            // The running configuration is untouched: the grant is open, a new knock is accepted.
            assertThat(server.firewall().active(f.clock.instant())).hasSize(1);
            send(server.knockAddress(), knock(f.client("bob").build(), f.server));
            await("bob's grant", () -> server.counters().accepted() == 2);
            assertThat(server.status().reloads().refused()).isEqualTo(3);
            assertThat(server.status().reloads().applied()).isZero();
            assertThat(server.status().reloads().last()).startsWith("refused: ");
            String metrics = scrape(server);
            assertThat(KnockServerOperationsTest.value(metrics, "certknock_reloads_total{result=\"refused\"}")).isEqualTo(3);
            assertThat(KnockServerOperationsTest.value(metrics, "certknock_reloads_total{result=\"applied\"}")).isZero();

            // The good file again: applied, nothing changed.
            Files.writeString(config, good);
            ReloadResult ok = server.reload();
            assertThat(ok).isInstanceOf(ReloadResult.Applied.class);
            assertThat(((ReloadResult.Applied) ok).changed()).isEmpty();
            assertThat(KnockServerOperationsTest.value(scrape(server), "certknock_reloads_total{result=\"applied\"}"))
                    .isEqualTo(1);
        }
    }

    private static String scrape(KnockServer server) throws Exception {
        InetSocketAddress at = server.metricsAddress().orElseThrow();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + at.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    @Test
    void settingsThatNeedARestartAreRefusedByNameAndNothingElseOfTheFileIsApplied() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        String good = Files.readString(config);
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            // A reloadable change (knock.maxOpenSeconds) next to two that are not: all refused, the keys named.
            Files.writeString(config, good.replace("  replayJournal: replay.journal",
                    "  replayJournal: other.journal\n  maxOpenSeconds: 600")
                    .replace("  port: 0", "  port: 62299"));
            ReloadResult r = server.reload();
            assertThat(r).isInstanceOf(ReloadResult.Refused.class);
            assertThat(((ReloadResult.Refused) r).reason())
                    .startsWith(config + ":18:") // at the first key named: capture.port, a line down (maxOpenSeconds)
                    .contains("capture.port", "knock.replayJournal", "only a restart")
                    .doesNotContain("maxOpenSeconds");
            assertThat(server.material().config().knock().maxOpenSeconds()).isEqualTo(3600);
            assertThat(server.material().config().capture().port()).isZero();

            Files.writeString(config, good.replace("  replayJournal: replay.journal",
                    "  replayJournal: replay.journal\n  maxOpenSeconds: 600"));
            ReloadResult applied = server.reload();
            assertThat(((ReloadResult.Applied) applied).changed()).containsExactly("knock");
            assertThat(server.material().config().knock().maxOpenSeconds()).isEqualTo(600);
        }
    }

    @Test
    void aRotatedServerKeyIsAcceptedWhileAGrantStaysOpenAndTheReplayStateCarriesOn() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        IssuedCertificate bob = f.client("bob").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        IssuedCertificate next = f.writeIdentity(dir, "next.p12");
        List<String> seen = new ArrayList<>();
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            server.addReloadListener(new ReloadListener() {
                @Override
                public void reloading() {
                    seen.add("reloading");
                }

                @Override
                public void reloaded(ReloadResult result) {
                    seen.add(result.getClass().getSimpleName());
                }
            });
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            send(server.knockAddress(), knock(alice, f.server));
            await("alice's grant", () -> server.counters().accepted() == 1);
            // Sealed to the new key before the server holds it: refused.
            send(server.knockAddress(), knock(bob, next));
            await("the unknown key", () -> server.counters().dropped(DropReason.UNKNOWN_SERVER_KEY) == 1);

            // Overlap: both identities listed.
            edit(config, ONE_IDENTITY, ONE_IDENTITY + """
                        - bundle: next.p12
                          passwordFile: password.txt
                    """);
            ReloadResult both = server.reload();
            assertThat(((ReloadResult.Applied) both).changed()).containsExactly("server.identities");
            assertThat(server.material().keys()).hasSize(2);
            byte[] toNew = knock(bob, next);
            send(server.knockAddress(), toNew);
            send(server.knockAddress(), knock(f.client("carol").build(), f.server));
            await("knocks to both keys", () -> server.counters().accepted() == 3);

            // The old identity removed: knocks sealed to it are refused, to the new one accepted.
            edit(config, ONE_IDENTITY, "");
            ReloadResult rotated = server.reload();
            assertThat(((ReloadResult.Applied) rotated).changed()).containsExactly("server.identities");
            send(server.knockAddress(), knock(f.client("dave").build(), f.server));
            await("the old key refused", () -> server.counters().dropped(DropReason.UNKNOWN_SERVER_KEY) == 2);
            send(server.knockAddress(), knock(f.client("erin").build(), next));
            await("the new key accepted", () -> server.counters().accepted() == 4);
            // The replay state survived both reloads: bob's knock sent again is a replay.
            send(server.knockAddress(), toNew);
            await("the replay", () -> server.counters().dropped(DropReason.REPLAY) == 1);

            // Every grant is still open, alice's from before the first reload among them.
            assertThat(server.firewall().active(f.clock.instant()))
                    .extracting(d -> d.subject().getName())
                    .containsExactlyInAnyOrder("CN=alice", "CN=bob", "CN=carol", "CN=erin");
            assertThat(seen).containsExactly("reloading", "Applied", "reloading", "Applied");
        }
    }

    @Test
    void aNewTrustAnchorIsTrustedWithItsCrlAndTheOldCrlsStayInForce() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        TestCa other = TestCa.root("CN=certknock second CA", f.clock);
        var grants = dev.certknock.protocol.grant.CertknockGrants.of(dev.certknock.protocol.grant.PortGrant.parse("tcp/22"))
                .withMaxOpenSeconds(300).withServers(List.of(ServerFixture.SERVER_NAME));
        IssuedCertificate frank = ServerFixture.client(other, "frank", grants).build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "metrics:\n  port: 0\n");
        Files.writeString(dir.resolve("other.pem"), ServerFixture.pem("CERTIFICATE", other.certificate().getEncoded()));
        Files.write(dir.resolve("other.crl"), other.crl().build().getEncoded());
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            send(server.knockAddress(), knock(alice, f.server));
            await("alice's grant", () -> server.counters().accepted() == 1);
            send(server.knockAddress(), knock(frank, f.server));
            await("frank refused", () -> server.counters().received() == 2 && server.counters().accepted() == 1
                    && server.counters().dropped(DropReason.UNTRUSTED_CHAIN) == 1);

            edit(config, "  anchors: [ca.pem]", "  anchors: [ca.pem, other.pem]");
            edit(config, "    - url: " + dir.resolve("crl.der").toUri(), "    - url: " + dir.resolve("crl.der").toUri()
                    + "\n    - url: " + dir.resolve("other.crl").toUri());
            CaKey first = CaKey.of(f.caCertificate());
            CaKey second = CaKey.of(other.certificate());
            ReloadResult r = server.reload();
            assertThat(((ReloadResult.Applied) r).changed()).containsExactly("trust", "crl");
            // The first CA's CRL came back from the cache at once; the new CA's arrives from its source.
            assertThat(server.crls().store().info(first)).isPresent();
            await("the second CA's CRL", () -> server.crls().store().info(second).isPresent());
            send(server.knockAddress(), knock(frank, f.server));
            await("frank's grant", () -> server.counters().accepted() == 2);
            assertThat(server.firewall().active(f.clock.instant())).hasSize(2);
            assertThat(server.status().crls()).extracting(c -> c.keyId()).containsExactly(first.keyId(), second.keyId());
            String metrics = scrape(server);
            assertThat(KnockServerOperationsTest.value(metrics, "certknock_crl_fresh{ca=\"" + second + "\"}")).isEqualTo(1);
            assertThat(KnockServerOperationsTest.value(metrics, "certknock_crl_fresh{ca=\"" + first + "\"}")).isEqualTo(1);

            // A revocation published by the new source closes alice's grant: the new refresher runs, the old is gone.
            Files.write(dir.resolve("crl.der"), f.ca.crl().number(2).revoke(alice.certificate()).build().getEncoded());
            server.crls().refreshNow();
            await("alice's grant closed", () -> server.firewall().active(f.clock.instant()).size() == 1);
        }
    }

    @Test
    void aCrlCacheWithAnOlderCrlIsRefusedRatherThanRollingRevocationBack() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().number(1).build(), "");
        // A server on another cache directory leaves CRL number 1 there.
        edit(config, "  cacheDir: crl-cache", "  cacheDir: old-cache");
        try (KnockServer old = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            await("CRL 1 cached", () -> !old.crls().store().infos().isEmpty());
        }
        edit(config, "  cacheDir: old-cache", "  cacheDir: crl-cache");
        Files.write(dir.resolve("crl.der"), f.ca.crl().number(2).revoke(alice.certificate()).build().getEncoded());
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            CaKey ca = CaKey.of(f.caCertificate());
            await("CRL 2", () -> server.crls().store().info(ca).map(i -> i.crlNumber().intValue() == 2).orElse(false));
            edit(config, "  cacheDir: crl-cache", "  cacheDir: old-cache");
            ReloadResult r = server.reload();
            assertThat(r).isInstanceOf(ReloadResult.Refused.class);
            assertThat(((ReloadResult.Refused) r).reason()).startsWith(config + ":11:")
                    .contains("holds CRL number 1", "older than number 2", "never rolls revocation back");
            assertThat(server.crls().store().info(ca).orElseThrow().crlNumber().intValue()).isEqualTo(2);
            send(server.knockAddress(), knock(alice, f.server));
            await("alice still revoked", () -> server.counters().dropped(DropReason.REVOKED) == 1);
        }
    }

    @Test
    void theAuditLogGoesOnInANewFileAfterARenameAndAReload() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "logging:\n  audit: audit.jsonl\n");
        Path audit = dir.resolve("audit.jsonl");
        Path rotated = dir.resolve("audit.jsonl.1");
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            send(server.knockAddress(), knock(alice, f.server));
            await("alice's audit lines", () -> lines(audit).stream().anyMatch(l -> l.contains("\"event\":\"accepted\"")));
            Files.move(audit, rotated); // logrotate's rename
            send(server.knockAddress(), knock(f.client("bob").build(), f.server));
            await("bob's audit lines in the renamed file",
                    () -> lines(rotated).stream().anyMatch(l -> l.contains("CN=bob") && l.contains("\"accepted\"")));
            assertThat(audit).doesNotExist();

            server.reload(); // postrotate: kill -HUP
            send(server.knockAddress(), knock(f.client("carol").build(), f.server));
            await("carol's audit lines in the new file",
                    () -> lines(audit).stream().anyMatch(l -> l.contains("CN=carol") && l.contains("\"accepted\"")));
        }
        List<String> before = lines(rotated);
        List<String> after = lines(audit);
        assertThat(before).noneMatch(l -> l.contains("CN=carol"));
        assertThat(after).noneMatch(l -> l.contains("CN=alice") || l.contains("CN=bob"));
        // Every line whole, none twice: accepted + grant-opened for each of the three knocks, no more.
        List<String> all = new ArrayList<>(before);
        all.addAll(after);
        assertThat(all).allSatisfy(l -> assertThat(l).startsWith("{").endsWith("}"));
        assertThat(all).doesNotHaveDuplicates();
        assertThat(all.stream().filter(l -> l.contains("\"event\":\"accepted\""))).hasSize(3);
        assertThat(all.stream().filter(l -> l.contains("\"event\":\"grant-opened\""))).hasSize(3);
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
