package dev.certknock.server.app;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.cli.KnockServerCommand;
import dev.certknock.server.status.StatusClient;
import dev.certknock.server.status.StatusResult;
import dev.certknock.testing.pki.IssuedCertificate;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations on the running server (issue 11): the Prometheus endpoint scraped over loopback HTTP while knocks arrive
 * over loopback UDP, its exposition checked by {@code promtool}, and {@code knock-server status} over the status
 * socket, with the socket's mode and its start-up rules (a live socket refuses a second server, a stale one is
 * replaced).
 */
class KnockServerOperationsTest {

    private static final java.net.Inet4Address LOOPBACK = ServerFixture.ipv4("127.0.0.1");

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static void send(InetSocketAddress to, byte[] datagram) throws Exception {
        ServerFixture.sendFromLoopback(to, datagram);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(15), Duration.ofMillis(20), condition);
    }

    private HttpResponse<String> get(InetSocketAddress server, String path, String method) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private String scrape(KnockServer server) throws Exception {
        HttpResponse<String> r = get(server.metricsAddress().orElseThrow(), "/metrics", "GET");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return r.body();
    }

    /** The value of the one sample whose name and labels are {@code series} (e.g. {@code a_total{reason="X"}}). */
    static double value(String exposition, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(exposition);
        if (!m.find()) {
            throw new AssertionError("no sample " + series + " in:\n" + exposition);
        }
        return Double.parseDouble(m.group(1));
    }

    private Path config(Path in) throws Exception {
        return f.writeConfig(in, f.ca.crl().build(), "metrics:\n  port: 0\n");
    }

    @Test
    void metricsMoveWithKnocksAndPassPromtool() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        ServerMaterial material = ServerMaterial.load(config(dir));
        try (KnockServer server = KnockServer.start(material, f.clock)) {
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            String before = scrape(server);
            assertThat(value(before, "certknock_knocks_accepted_total")).isZero();
            assertThat(value(before, "certknock_grants_open")).isZero();
            assertThat(value(before, "certknock_knock_grant_latency_seconds_count")).isZero();
            assertThat(value(before, "certknock_knocks_dropped_total{reason=\"UNSUPPORTED_SUITE\"}")).isZero();
            assertThat(before).contains("certknock_build_info{version=\"development build\"} 1");

            send(server.knockAddress(), f.knock(alice, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK)));
            send(server.knockAddress(), new byte[] {1, 9, 3});
            await("the grant and the drop", () -> server.counters().accepted() == 1
                    && server.counters().dropped(dev.certknock.server.knock.DropReason.UNSUPPORTED_SUITE) == 1);

            String after = scrape(server);
            assertThat(value(after, "certknock_knocks_received_total")).isEqualTo(2);
            assertThat(value(after, "certknock_knocks_accepted_total")).isEqualTo(1);
            assertThat(value(after, "certknock_knocks_dropped_total{reason=\"UNSUPPORTED_SUITE\"}")).isEqualTo(1);
            assertThat(value(after, "certknock_knocks_dropped_total{reason=\"REPLAY\"}")).isZero();
            assertThat(value(after, "certknock_grants_open")).isEqualTo(1);
            assertThat(value(after, "certknock_grant_elements_open")).isEqualTo(1);
            assertThat(value(after, "certknock_grants_opened_total")).isEqualTo(1);
            assertThat(value(after, "certknock_grants_closed_total{reason=\"expired\"}")).isZero();
            assertThat(value(after, "certknock_knock_grant_latency_seconds_count")).isEqualTo(1);
            assertThat(value(after, "certknock_knock_grant_latency_seconds_bucket{le=\"+Inf\"}")).isEqualTo(1);
            assertThat(value(after, "certknock_capture_packets_total")).isEqualTo(2);
            assertThat(value(after, "certknock_capture_kernel_drops_total")).isZero();
            assertThat(value(after, "certknock_replay_cache_size")).isEqualTo(1);
            assertThat(value(after, "certknock_dispatch_queue_depth")).isZero();
            assertThat(value(after, "certknock_public_key_budget_used_ratio")).isBetween(0.0, 1.0);
            String ca = "{ca=\"" + dev.certknock.server.crl.CaKey.of(f.caCertificate()).toString() + "\"}";
            assertThat(value(after, "certknock_crl_fresh" + ca)).isEqualTo(1);
            assertThat(value(after, "certknock_crl_age_seconds" + ca)).isGreaterThanOrEqualTo(0);
            // no per-address or per-certificate label anywhere
            assertThat(after).doesNotContain("127.0.0.1", "alice");

            // Time passes: the grant expires, and the gauge and the close counter follow.
            f.clock.advance(Duration.ofSeconds(121));
            server.firewall().active(f.clock.instant()); // what the housekeeping does each second
            String expired = scrape(server);
            assertThat(value(expired, "certknock_grants_open")).isZero();
            assertThat(value(expired, "certknock_grants_closed_total{reason=\"expired\"}")).isEqualTo(1);

            promtool(after);
        }
    }

    /** {@code promtool check metrics} accepts the exposition (no format or naming problems). */
    private static void promtool(String exposition) throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        assumeTrue(Files.isExecutable(promtool), "promtool is absent: install the Debian package prometheus "
                + "(.ci/run does) to check the exposition format");
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("promtool check metrics said:%n%s", out).isZero();
        assertThat(out).as("promtool's lint findings").isBlank();
    }

    @Test
    void theEndpointAnswersOnlyGetMetrics() throws Exception {
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config(dir)), f.clock)) {
            InetSocketAddress at = server.metricsAddress().orElseThrow();
            assertThat(at.getAddress().isLoopbackAddress()).isTrue();
            assertThat(get(at, "/metrics", "GET").statusCode()).isEqualTo(200);
            assertThat(get(at, "/metrics", "HEAD").statusCode()).isEqualTo(200);
            assertThat(get(at, "/", "GET").statusCode()).isEqualTo(404);
            assertThat(get(at, "/metrics/", "GET").statusCode()).isEqualTo(404);
            assertThat(get(at, "/metricsx", "GET").statusCode()).isEqualTo(404);
            assertThat(get(at, "/metrics?name=x", "GET").statusCode()).isEqualTo(404);
            assertThat(get(at, "/status", "GET").statusCode()).isEqualTo(404);
            assertThat(get(at, "/metrics", "POST").statusCode()).isEqualTo(405);
            assertThat(get(at, "/metrics", "DELETE").statusCode()).isEqualTo(405);
        }
    }

    @Test
    void aMetricsPortInUseRefusesTheStartAndLeavesNoSocketBehind() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Path config = f.writeConfig(dir, f.ca.crl().build(), "metrics:\n  port: " + taken.getLocalPort() + "\n");
            assertThatThrownBy(() -> KnockServer.start(ServerMaterial.load(config), f.clock))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot listen for metrics on 127.0.0.1 port " + taken.getLocalPort());
        }
        assertThat(dir.resolve("status.sock")).doesNotExist();
    }

    @Test
    void noMetricsSectionNoEndpoint() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            assertThat(server.metricsAddress()).isEmpty();
        }
    }

    @Test
    void statusListsTheGrantWithItsExpiryOverAnOwnerOnlySocket() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = config(dir);
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            Path socket = server.statusSocketPath();
            assertThat(socket).isEqualTo(dir.resolve("status.sock"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            await("the CRL", () -> !server.crls().store().infos().isEmpty());
            send(server.knockAddress(), f.knock(alice, ServerFixture.ssh(120).withDeclaredIpv4(LOOPBACK)));
            await("the grant", () -> server.counters().accepted() == 1);
            f.clock.advance(Duration.ofSeconds(5));

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = KnockServerCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), "status",
                    "--config", config.toString(), "--json");
            assertThat(code).as("stderr: %s", err).isZero();
            JsonNode json = new ObjectMapper().readTree(out.toString());
            assertThat(json.get("server").asText()).isEqualTo(ServerFixture.SERVER_NAME);
            assertThat(json.get("uptimeSeconds").asLong()).isEqualTo(5);
            assertThat(json.get("grants")).hasSize(1);
            JsonNode grant = json.get("grants").get(0);
            assertThat(grant.get("address").asText()).isEqualTo("127.0.0.1");
            assertThat(grant.get("ports").get(0).asText()).isEqualTo("tcp/22");
            assertThat(grant.get("subject").asText()).contains("CN=alice");
            assertThat(grant.get("serial").asText()).isEqualTo(alice.certificate().getSerialNumber().toString(16));
            assertThat(grant.get("expiresAt").asText()).isEqualTo(f.clock.instant().minusSeconds(5).plusSeconds(120).toString());
            assertThat(json.get("counters").get("accepted").asLong()).isEqualTo(1);
            assertThat(json.get("crls")).hasSize(1);
            assertThat(json.get("crls").get(0).get("fresh").asBoolean()).isTrue();

            StringWriter text = new StringWriter();
            assertThat(KnockServerCommand.run(new PrintWriter(text, true), new PrintWriter(err, true), "status",
                    "--socket", socket.toString())).isZero();
            assertThat(text.toString()).contains("open grants: 1", "127.0.0.1 tcp/22 until "
                    + f.clock.instant().plusSeconds(115) + " (115 s left)", "CN=alice", "fresh", "up 00:00:05");
        }
        // Stopped: the socket is gone, and status says the server is not running.
        assertThat(dir.resolve("status.sock")).doesNotExist();
        StringWriter err = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "status",
                "--config", config.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no status socket");
    }

    @Test
    void aLiveSocketRefusesASecondServerAndAStaleOneIsReplaced() throws Exception {
        Path first = Files.createDirectory(dir.resolve("a"));
        Path second = Files.createDirectory(dir.resolve("b"));
        Path shared = first.resolve("status.sock");
        Path secondConfig = f.writeConfig(second, f.ca.crl().build(), "status:\n  socket: " + shared + "\n");
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config(first)), f.clock)) {
            assertThat(server.statusSocketPath()).isEqualTo(shared);
            assertThatThrownBy(() -> KnockServer.start(ServerMaterial.load(secondConfig), f.clock))
                    .isInstanceOf(IOException.class).hasMessageContaining("another knock-server is running")
                    .hasMessageContaining(shared.toString());
            // the refused server left the first one's socket alone
            assertThat(StatusClient.ask(shared, Duration.ofSeconds(5))).isInstanceOf(StatusResult.Answered.class);
        }

        // A socket file nothing listens on (a killed server's): replaced at start.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(shared));
        }
        assertThat(shared).exists();
        assertThat(StatusClient.ask(shared, Duration.ofSeconds(5))).isInstanceOf(StatusResult.NotRunning.class);
        try (KnockServer server = KnockServer.start(ServerMaterial.load(secondConfig), f.clock)) {
            assertThat(server.statusSocketPath()).isEqualTo(shared);
            StatusResult r = StatusClient.ask(shared, Duration.ofSeconds(5));
            assertThat(r).isInstanceOf(StatusResult.Answered.class);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(shared))).isEqualTo("rw-------");
        }

        // Something that is not a socket is never removed.
        Files.writeString(shared, "not a socket");
        assertThatThrownBy(() -> KnockServer.start(ServerMaterial.load(secondConfig), f.clock))
                .isInstanceOf(IOException.class).hasMessageContaining("is not a socket");
        assertThat(Files.readString(shared)).isEqualTo("not a socket");
    }

    /**
     * Two servers starting at once with one status socket: the one that holds {@code <socket>.lock} (here the test,
     * as a server between its stale check and its bind would) keeps the other from deciding the socket is stale and
     * deleting it; once the lock is free, the start goes ahead and replaces the stale socket.
     */
    @Test
    void aServerStartingWithTheSameSocketIsRefusedAndTheStaleSocketIsLeftAlone() throws Exception {
        Path first = Files.createDirectory(dir.resolve("a"));
        Path shared = first.resolve("status.sock");
        Path config = f.writeConfig(Files.createDirectory(dir.resolve("b")), f.ca.crl().build(),
                "status:\n  socket: " + shared + "\n");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(shared));
        }
        Path lockFile = first.resolve("status.sock.lock");
        try (java.nio.channels.FileChannel held = java.nio.channels.FileChannel.open(lockFile,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
                java.nio.channels.FileLock lock = held.lock()) {
            assertThatThrownBy(() -> KnockServer.start(ServerMaterial.load(config), f.clock))
                    .isInstanceOf(IOException.class).hasMessageContaining("another knock-server is running or starting")
                    .hasMessageContaining(lockFile.toString());
            assertThat(shared).as("the other server's socket, not deleted").exists();
        }
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config), f.clock)) {
            assertThat(StatusClient.ask(shared, Duration.ofSeconds(5))).isInstanceOf(StatusResult.Answered.class);
        }
        assertThat(shared).doesNotExist();
        assertThat(lockFile).as("kept: deleting it would let two servers lock different files").exists();
    }

    @Test
    void theSocketAnswersOnlyTheStatusRequest() throws Exception {
        try (KnockServer server = KnockServer.start(ServerMaterial.load(config(dir)), f.clock)) {
            for (String request : List.of("STATUS\n", "grants\n", "x".repeat(200) + "\n", "status")) {
                try (var c = java.nio.channels.SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    c.connect(UnixDomainSocketAddress.of(server.statusSocketPath()));
                    c.write(java.nio.ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
                    c.shutdownOutput();
                    var buf = java.nio.ByteBuffer.allocate(1024);
                    int read;
                    try {
                        read = c.read(buf);
                    } catch (java.net.SocketException e) {
                        read = -1; // closed with the rest of a long request unread: a reset, no answer either
                    }
                    assertThat(read).as("answer to %s", request.strip()).isEqualTo(-1);
                }
            }
            // a client that says nothing is cut off at the deadline, and the next one is answered
            try (var silent = java.nio.channels.SocketChannel.open(StandardProtocolFamily.UNIX)) {
                silent.connect(UnixDomainSocketAddress.of(server.statusSocketPath()));
                assertThat(StatusClient.ask(server.statusSocketPath(), Duration.ofSeconds(10)))
                        .isInstanceOf(StatusResult.Answered.class);
            }
        }
    }
}
