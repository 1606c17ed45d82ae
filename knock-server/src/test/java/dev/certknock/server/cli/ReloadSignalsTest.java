package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.knock.ServerPublicKey;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.status.StatusClient;
import dev.certknock.server.status.StatusReport;
import dev.certknock.server.status.StatusResult;
import dev.certknock.testing.pki.IssuedCertificate;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code knock-server run} as a real process, sent real signals with {@code kill}: SIGHUP with a broken file keeps
 * the running configuration, SIGHUP with a good one rotates the server key while a grant stays open, SIGTERM and
 * SIGINT run the stop behaviour ({@code firewall.onStop: flush}) and exit 0 (the JVM's default would be 143 and 130).
 */
class ReloadSignalsTest {

    private static final java.net.Inet4Address LOOPBACK = ServerFixture.ipv4("127.0.0.1");

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture(Instant.now());
    private Process server;

    @AfterEach
    void stopTheChild() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Path config(int port) throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), """
                logging:
                  audit: audit.jsonl
                firewall:
                  onStop: flush
                """);
        Files.writeString(config, Files.readString(config).replace("  port: 0", "  port: " + port));
        return config;
    }

    private Process start(Path config) throws Exception {
        // The signals at their defaults, however the build was started (nohup ignores SIGHUP, a background job of a
        // non-interactive shell SIGINT, and the server would inherit that): coreutils' env resets them.
        return start(config, "--default-signal=HUP,INT,TERM");
    }

    private Process start(Path config, String signals) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        // The production logging configuration (INFO on stderr), not the tests' logback-test.xml
        ProcessBuilder pb = new ProcessBuilder("env", signals, java, "-Dlogback.configurationFile=logback.xml",
                "-cp", System.getProperty("java.class.path"),
                KnockServerCommand.class.getName(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("CERTKNOCK_LOG_LEVEL", "INFO");
        server = pb.start();
        status(r -> true, "the server to answer on its status socket");
        return server;
    }

    private StatusReport status(Predicate<StatusReport> until, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            assertThat(server.isAlive()).as("the server is running; its log:%n%s", log()).isTrue();
            StatusResult r = StatusClient.ask(dir.resolve("status.sock"), Duration.ofSeconds(2));
            if (r instanceof StatusResult.Answered a && until.test(a.report())) {
                return a.report();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; last status " + r + "; log:\n" + log());
            }
            Thread.sleep(50);
        }
    }

    private String log() throws Exception {
        Path log = dir.resolve("server.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(server.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private void knock(int port, IssuedCertificate client, IssuedCertificate to) throws Exception {
        byte[] datagram = f.knock(client, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK),
                ServerPublicKey.fromCertificate(to.certificate()));
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.send(new DatagramPacket(datagram, datagram.length, new InetSocketAddress(LOOPBACK, port)));
        }
    }

    @Test
    void sighupReloadsOrRefusesAndSigtermStopsWithExitZero() throws Exception {
        int port = freeUdpPort();
        Path config = config(port);
        String good = Files.readString(config);
        IssuedCertificate next = f.writeIdentity(dir, "next.p12");
        start(config);
        status(r -> r.crls().stream().allMatch(StatusReport.Crl::fresh), "the CRL");
        knock(port, f.client("alice").build(), f.server);
        status(r -> r.counters().accepted() == 1, "alice's grant");

        // A broken file: refused at its line, the process lives on with the old configuration.
        Files.writeString(config, good.replace("  cacheDir: crl-cache", "  cacheDir: crl-cache\n  maxBytes: 12"));
        signal("HUP");
        StatusReport refused = status(r -> r.reloads().refused() == 1, "the refused reload");
        assertThat(refused.reloads().last()).startsWith("refused: " + config + ":12:").contains("crl.maxBytes");
        assertThat(log()).contains("reload refused, the running configuration stays in force: " + config + ":12:");
        knock(port, f.client("bob").build(), f.server);
        status(r -> r.counters().accepted() == 2, "bob's grant under the old configuration");

        // A good file with the new identity in place of the old: applied; the grants stay open.
        Files.writeString(config, good.replace("bundle: server.p12", "bundle: next.p12"));
        signal("HUP");
        StatusReport applied = status(r -> r.reloads().applied() == 1, "the applied reload");
        assertThat(applied.reloads().last()).isEqualTo("applied: server.identities");
        knock(port, f.client("carol").build(), next);
        knock(port, f.client("dave").build(), f.server);
        StatusReport after = status(r -> r.counters().accepted() == 3 && r.counters().dropped()
                .getOrDefault("UNKNOWN_SERVER_KEY", 0L) == 1, "carol's grant (new key) and dave's drop (old key)");
        assertThat(after.grants()).extracting(StatusReport.Grant::subject)
                .containsExactlyInAnyOrder("CN=alice", "CN=bob", "CN=carol");

        signal("TERM");
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the server stops").isTrue();
        assertThat(server.exitValue()).as("exit status; log:%n%s", log()).isZero();
        // The stop behaviour ran: onStop flush closed every grant, and said so in the audit log.
        List<String> audit = Files.readAllLines(dir.resolve("audit.jsonl"));
        assertThat(audit.stream().filter(l -> l.contains("\"event\":\"grant-closed\"") && l.contains("\"why\":\"stopped\"")))
                .hasSize(3);
        assertThat(log()).contains("knock-server stopped");
        assertThat(dir.resolve("status.sock")).doesNotExist();
    }

    @Test
    void sigintStopsWithExitZero() throws Exception {
        start(config(freeUdpPort()));
        signal("INT");
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the server stops").isTrue();
        assertThat(server.exitValue()).as("exit status; log:%n%s", log()).isZero();
        assertThat(log()).contains("firewall: every grant element removed", "knock-server stopped");
    }

    /**
     * Started with SIGHUP ignored (as nohup does), the JVM keeps it ignored: the server says so at start, instead of
     * letting an operator believe that kill -HUP reloads, and still stops on SIGTERM with exit 0.
     */
    @Test
    void anIgnoredSighupIsNamedAtStartAndSigtermStillStops() throws Exception {
        start(config(freeUdpPort()), "--ignore-signal=HUP");
        assertThat(log()).contains("SIGHUP was ignored when the server started", "kill -HUP does not reload");
        signal("TERM");
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the server stops").isTrue();
        assertThat(server.exitValue()).as("exit status; log:%n%s", log()).isZero();
        assertThat(log()).doesNotContain("SIGTERM was ignored");
    }
}
