package dev.certknock.server.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ServerFixture;
import dev.certknock.server.app.KnockServer;
import dev.certknock.server.app.ServerMaterial;
import dev.certknock.server.cli.KnockServerCommand;
import dev.certknock.server.cli.VerifyCommand;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.status.StatusJson;
import dev.certknock.server.status.StatusReport;
import dev.certknock.server.status.StatusText;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.wait.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, end to end: a server with diagnostics.keepRefused keeps a refused knock that arrived over loopback, and
 * {@code knock-server verify} run on the kept file says why, naming the certificate and its revocation.
 */
class KeepRefusedVerifyTest {

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();

    private List<Path> kept(Path refused) throws Exception {
        if (!Files.isDirectory(refused)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(refused)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".knock")).sorted().toList();
        }
    }

    @Test
    void verifyRunsOnWhatTheServerKept() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().revoke(alice.certificate()).build(),
                "diagnostics:\n  keepRefused:\n    count: 2\nmetrics:\n  port: 0\n");
        Path refused = dir.resolve("refused");
        byte[] knock = f.knock(alice, ServerFixture.ssh(60));
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            Await.until("the CRL", Duration.ofSeconds(15), Duration.ofMillis(20), () -> !server.crls().store().infos().isEmpty());
            ServerFixture.sendFromLoopback(server.knockAddress(), knock);
            Await.until("the refusal", Duration.ofSeconds(15), Duration.ofMillis(20),
                    () -> server.counters().dropped(DropReason.REVOKED) == 1);
            Await.until("the kept file", Duration.ofSeconds(15), Duration.ofMillis(20), () -> {
                try {
                    return kept(refused).size() == 1 && Files.exists(refused.resolve(kept(refused).get(0).getFileName() + ".txt"));
                } catch (Exception e) {
                    return false;
                }
            });
            // What the keeper did is counted where an operator looks: status and the metrics endpoint.
            StatusReport.KeptRefused counted = server.status().keptRefused();
            assertThat(counted).as("status with keepRefused on").isNotNull();
            assertThat(counted.written()).isEqualTo(1);
            assertThat(counted.rateLimited() + counted.queueFull() + counted.failed()).isZero();
            StringWriter text = new StringWriter();
            StatusText.print(server.status(), new PrintWriter(text));
            assertThat(text.toString()).contains("refused datagrams kept: 1 written, not kept: 0 over the rate");
            assertThat(StatusJson.read(StatusJson.write(server.status())).keptRefused()).isEqualTo(counted);
            HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                    + server.metricsAddress().orElseThrow().getAddress().getHostAddress() + ":"
                    + server.metricsAddress().orElseThrow().getPort() + "/metrics")).build(), BodyHandlers.ofString());
            assertThat(scrape.body()).contains("certknock_refused_kept_total{result=\"written\"} 1.0")
                    .contains("certknock_refused_kept_total{result=\"rate_limited\"} 0.0");
        }
        Path file = kept(refused).get(0);
        assertThat(Files.readAllBytes(file)).as("the datagram as it arrived").isEqualTo(knock);
        assertThat(file.getFileName().toString()).endsWith("-REVOKED.knock");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String sidecar = Files.readString(file.resolveSibling(file.getFileName() + ".txt"));
        assertThat(sidecar).contains("source 127.0.0.1\n").contains("reason REVOKED\n");

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), "verify", "--config", config.toString(),
                "--source", "127.0.0.1", "--at", "packet", file.toString());
        assertThat(code).as("stderr: %s", err).isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("REVOKED").contains("certificate CN=alice, serial "
                + alice.certificate().getSerialNumber().toString(16)).contains("reason KEY_COMPROMISE");
    }
}
