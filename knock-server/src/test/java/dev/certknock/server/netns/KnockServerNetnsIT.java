package dev.certknock.server.netns;

import dev.certknock.testing.wait.Await;
import static dev.certknock.server.netns.TestNetwork.in;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.IssuedCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: knock-server in its own network namespace, capturing with pcap and enforcing with
 * nftables, a TCP service on a protected port, a CRL served over HTTP inside the namespace, and two
 * client namespaces on their own links. Runs as root with ip, nft, python3 and tcpdump (CI installs
 * them); skipped with a message otherwise. Every namespace is deleted afterwards, also on failure.
 */
class KnockServerNetnsIT {

    private static final int KNOCK_PORT = 62201;
    private static final String SERVICE = String.join("\n",
            "import socket, threading",
            "s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)",
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind(('::', 22)); s.listen(64)",
            "def echo(c):",
            "    with c:",
            "        while True:",
            "            d = c.recv(4096)",
            "            if not d: return",
            "            c.sendall(d)",
            "while True:",
            "    c, _ = s.accept()",
            "    threading.Thread(target=echo, args=(c,), daemon=True).start()");
    private static final String CONNECT = String.join("\n",
            "import socket, sys",
            "try:",
            "    c = socket.create_connection((sys.argv[1], 22), timeout=1.0)",
            "    c.sendall(b'ping'); ok = c.recv(4) == b'ping'; c.close()",
            "    sys.exit(0 if ok else 2)",
            "except OSError:",
            "    sys.exit(1)");
    /** Connects, echoes once, waits past the grant's expiry, echoes again on the same connection. */
    private static final String HOLD = String.join("\n",
            "import socket, sys, time",
            "c = socket.create_connection((sys.argv[1], 22), timeout=2.0)",
            "c.sendall(b'one!'); assert c.recv(4) == b'one!'",
            "time.sleep(float(sys.argv[2]))",
            "c.settimeout(5.0); c.sendall(b'two!'); sys.exit(0 if c.recv(4) == b'two!' else 3)");
    /** Sends one datagram up to argv[3] times, for at most argv[4] seconds: a flood bounded in count and time. */
    private static final String FLOOD = String.join("\n",
            "import socket, sys, time",
            "a = sys.argv[1]; data = bytes.fromhex(sys.argv[2]); n = int(sys.argv[3]); end = time.monotonic() + float(sys.argv[4])",
            "s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM)",
            "sent = 0",
            "while sent < n and time.monotonic() < end:",
            "    s.sendto(data, (a, " + KNOCK_PORT + ")); sent += 1",
            "print(sent)");
    private static final String SEND = String.join("\n",
            "import socket, sys",
            "a = sys.argv[1]; data = bytes.fromhex(sys.argv[2]); n = int(sys.argv[3]) if len(sys.argv) > 3 else 1",
            "s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM)",
            "for i in range(n): s.sendto(data, (a, " + KNOCK_PORT + "))");

    @TempDir
    Path dir;

    private TestNetwork net;
    private final List<Process> processes = new ArrayList<>();
    private Process server;
    private ServerFixture f;
    private Path config;
    private Path serverLog;

    @BeforeEach
    void setUp() throws Exception {
        TestNetwork.requireRoot("ip", "nft", "python3", "tcpdump", "conntrack");
        TestNetwork.requireLibpcap();
        net = TestNetwork.create();
        f = new ServerFixture(Instant.now());
        Files.createDirectories(dir.resolve("www"));
        config = f.writeConfig(dir, f.ca.crl().build(), "logging:\n  audit: audit.jsonl\n");
        publishCrl(f.ca.crl().number(1).build());
        Files.writeString(config, Files.readString(config)
                .replace("url: " + dir.resolve("crl.der").toUri(), "url: http://127.0.0.1:8081/ca.crl")
                .replace("  cacheDir: crl-cache", "  cacheDir: crl-cache\n  refreshInterval: 1s")
                .replace("logging:\n  audit: audit.jsonl\n", "logging:\n  audit: audit.jsonl\n  statsInterval: 1s\n")
                .replace("capture:\n  address: 127.0.0.1\n  port: 0\n",
                        "capture:\n  mode: pcap\n  interface: any\n  port: " + KNOCK_PORT + "\n")
                + "firewall:\n  backend: nftables\n  cutOnRevoke: true\n");
        start(in(net.server, "python3", "-m", "http.server", "8081", "--bind", "127.0.0.1", "--directory",
                dir.resolve("www").toString()));
        start(in(net.server, "python3", "-c", SERVICE));
        await("the CRL web server and the TCP service", () -> TestNetwork.exitCode(in(net.server, "python3", "-c",
                "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/ca.crl', timeout=1)")) == 0
                && TestNetwork.exitCode(in(net.server, "python3", "-c", CONNECT, "127.0.0.1")) == 0);
        serverLog = dir.resolve("server.log");
        startServer();
    }

    private void startServer() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> argv = in(net.server, java, "-Dlogback.configurationFile="
                        + Path.of("src/main/resources/logback.xml").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"),
                "dev.certknock.server.cli.KnockServerCommand", "run", "--config", config.toString());
        server = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(serverLog.toFile())).start();
        processes.add(server);
        long before = Files.exists(serverLog) ? Files.readString(serverLog).split("started:", -1).length : 0;
        await("knock-server to start", () -> log().split("started:", -1).length > before || !server.isAlive());
        assertThat(server.isAlive()).as("knock-server runs; its log:%n%s", log()).isTrue();
        assertThat(log()).as("the nftables backend reaches the kernel without a process per grant")
                .contains("in-process through libnftables");
        // Start-up does not wait for the CRL sources (cache at once, first fetch in the background).
        await("a CRL in force", () -> log().contains("CRL accepted") || !server.isAlive());
    }

    private void start(List<String> argv) throws IOException {
        processes.add(new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    @AfterEach
    void tearDown() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        if (net != null) {
            net.close();
        }
    }

    private String log() {
        try {
            return Files.exists(serverLog) ? Files.readString(serverLog) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private String audit() {
        Path a = dir.resolve("audit.jsonl");
        try {
            return Files.exists(a) ? Files.readString(a) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private void publishCrl(X509CRL crl) throws Exception {
        Path tmp = dir.resolve("www/ca.crl.tmp");
        Files.write(tmp, crl.getEncoded());
        Files.move(tmp, dir.resolve("www/ca.crl"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A knock v2 from client 1: it declares (signs) client 1's addresses, so it opens for client 1 only. */
    private byte[] knock(IssuedCertificate client, int seconds) throws java.net.UnknownHostException {
        f.clock.set(Instant.now());
        return f.knock(client, KnockRequest.of(seconds, List.of(PortGrant.parse("tcp/22")))
                .withDeclaredIpv4((java.net.Inet4Address) java.net.InetAddress.getByName(TestNetwork.CLIENT1_4))
                .withDeclaredIpv6((java.net.Inet6Address) java.net.InetAddress.getByName(TestNetwork.CLIENT1_6)));
    }

    private void send(String ns, String address, byte[] datagram, int times) {
        assertThat(TestNetwork.exitCode(in(ns, "python3", "-c", SEND, address, HexFormat.of().formatHex(datagram),
                Integer.toString(times)))).isZero();
    }

    private boolean reachable(String ns, String address) {
        return TestNetwork.exitCode(in(ns, "python3", "-c", CONNECT, address)) == 0;
    }

    private static void sleepUntil(long startNanos, Duration after) throws InterruptedException {
        long left = startNanos + after.toNanos() - System.nanoTime();
        assertThat(left).as("the check %s after the knock is already late", after).isPositive();
        Thread.sleep(left / 1_000_000);
    }

    private String lastStatsLine() {
        return log().lines().filter(l -> l.contains("stats: ")).reduce((a, b) -> b).orElse("(no stats line yet)");
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(30), Duration.ofMillis(100), condition);
    }

    @Test
    void aKnockOpensThePortForTheKnockerOnlyUntilItExpiresOverIpv4AndIpv6() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        int seconds = 8;
        for (String[] addr : List.of(new String[] {TestNetwork.SERVER4_LINK1, TestNetwork.SERVER4_LINK2},
                new String[] {TestNetwork.SERVER6_LINK1, TestNetwork.SERVER6_LINK2})) {
            assertThat(reachable(net.client1, addr[0])).as("closed before the knock: " + addr[0]).isFalse();
            byte[] datagram = knock(alice, seconds);
            long sent = System.nanoTime();
            send(net.client1, addr[0], datagram, 1);
            await("the port to open for client 1 at " + addr[0], () -> reachable(net.client1, addr[0]));
            Process held = new ProcessBuilder(in(net.client1, "python3", "-c", HOLD, addr[0], Integer.toString(seconds + 2)))
                    .start();
            processes.add(held);
            assertThat(reachable(net.client2, addr[1])).as("still closed for client 2").isFalse();
            sleepUntil(sent, Duration.ofMillis(seconds * 1000L - 1500));
            assertThat(reachable(net.client1, addr[0])).as("still open 1.5 s before the grant's end").isTrue();
            await("the grant to expire", () -> !reachable(net.client1, addr[0]));
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("closed on time, not just eventually")
                    .isLessThan(Duration.ofMillis(seconds * 1000L + 3000));
            assertThat(held.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(held.exitValue()).as("the connection opened during the grant survives its expiry").isZero();
        }
        assertThat(audit()).contains("\"event\":\"accepted\"");
    }

    @Test
    void aKnockRacedFromAnotherAddressOpensNothingThereAndStillOpensForItsSender() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        f.clock.set(Instant.now());
        // Alice, on client 2, signs her address; client 1 has a copy (seen on the wire) and sends it first.
        byte[] knock = f.knock(alice, KnockRequest.of(60, List.of(PortGrant.parse("tcp/22")))
                .withDeclaredIpv4((java.net.Inet4Address) java.net.InetAddress.getByName(TestNetwork.CLIENT2_4)));
        send(net.client1, TestNetwork.SERVER4_LINK1, knock, 1);
        await("the raced copy to be refused", () -> audit().contains("\"reason\":\"ADDRESS_NOT_SIGNED\""));
        assertThat(reachable(net.client1, TestNetwork.SERVER4_LINK1)).as("nothing opened for the racer").isFalse();
        send(net.client2, TestNetwork.SERVER4_LINK2, knock, 1);
        await("Alice's own copy to open the port for her", () -> reachable(net.client2, TestNetwork.SERVER4_LINK2));
        assertThat(reachable(net.client1, TestNetwork.SERVER4_LINK1)).as("still nothing for the racer").isFalse();
    }

    @Test
    void aClientBehindNatGetsInWithNoAddressTypedByHand() throws Exception {
        Path jar = clientJar();
        String natted = net.addNattedClient();
        IssuedCertificate bob = f.client("bob").build();
        Path bundle = dir.resolve("bob.p12");
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("bob", bob.privateKey(), ServerFixture.PASSWORD, bob.chain().toArray(new java.security.cert.Certificate[0]));
        try (var out = Files.newOutputStream(bundle)) {
            ks.store(out, ServerFixture.PASSWORD);
        }
        Path serverCert = dir.resolve("gw.pem");
        Files.writeString(serverCert, "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(f.server.certificate().getEncoded()) + "\n-----END CERTIFICATE-----\n");
        assertThat(reachable(natted, TestNetwork.SERVER4_LINK2)).as("closed before the knock").isFalse();
        // The real client, in the namespace behind the NAT: it knows only 10.99.0.2, and is told nothing else.
        Process knock = new ProcessBuilder(in(natted, TestNetwork.javaCommand(), "-jar", jar.toString(),
                TestNetwork.SERVER4_LINK2, "tcp/22", "--knock-port", Integer.toString(KNOCK_PORT), "--bundle",
                bundle.toString(), "--server-cert", serverCert.toString(), "--ca-cert", dir.resolve("ca.pem").toString(),
                // knocked on by its address here; its certificate names it gw1.example.test only
                "--server-name", ServerFixture.SERVER_NAME,
                "--password-file",
                dir.resolve("password.txt").toString(), "--require-reply", "--address-cache",
                dir.resolve("observed.json").toString())).redirectErrorStream(true).start();
        processes.add(knock);
        assertThat(knock.waitFor(60, TimeUnit.SECONDS)).as("the client finishes").isTrue();
        String said = new String(knock.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(knock.exitValue()).as("knock exits 0; it said:%n%s", said).isZero();
        assertThat(said).as("the client learned the NAT's address from the sealed reply and knocked again")
                .contains("learned address " + TestNetwork.CLIENT2_4).contains("confirmed by the server");
        assertThat(Files.readString(dir.resolve("observed.json"))).as("and remembers it").contains(TestNetwork.CLIENT2_4);
        await("the port to open behind the NAT", () -> reachable(natted, TestNetwork.SERVER4_LINK2));
        // The server saw the private address first (refused, answered), then the NAT's public one (opened).
        assertThat(audit()).contains("\"reason\":\"ADDRESS_NOT_SIGNED\"").contains(TestNetwork.CLIENT2_4);
        assertThat(reachable(net.client1, TestNetwork.SERVER4_LINK1)).as("nobody else").isFalse();
    }

    /** The client CLI's runnable jar, which the reactor packages before these tests run. */
    private static Path clientJar() throws IOException {
        Path target = Path.of("../knock-client-cli/target").toAbsolutePath().normalize();
        try (var files = Files.exists(target) ? Files.list(target) : java.util.stream.Stream.<Path>empty()) {
            Path jar = files.filter(p -> p.getFileName().toString().matches("knock-client-cli-.*-all\\.jar"))
                    .findFirst().orElse(null);
            org.junit.jupiter.api.Assumptions.assumeTrue(jar != null,
                    "the client jar is not built (run the whole reactor: ./mvnw verify)");
            return jar;
        }
    }

    @Test
    void replayRevocationAndSilence() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        // tcpdump in client 1's namespace sees every packet from the server: one sealed reply to each valid knock
        // (from the knock port), and nothing else: nothing for a replay, junk, or a revoked certificate.
        Path pcapOut = dir.resolve("client1.txt");
        // Neighbour discovery (ICMPv6 133-137) is the only other traffic the server may send: it is not an answer.
        Process dump = new ProcessBuilder(in(net.client1, "tcpdump", "-n", "-l", "-i", "ck-c1",
                "(src host " + TestNetwork.SERVER4_LINK1 + " or src host " + TestNetwork.SERVER6_LINK1 + ") and not tcp"
                        + " and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)")).redirectErrorStream(true)
                .redirectOutput(pcapOut.toFile()).start();
        processes.add(dump);
        await("tcpdump to listen", () -> {
            try {
                return Files.readString(pcapOut).contains("listening");
            } catch (IOException e) {
                return false;
            }
        });

        for (String server : List.of(TestNetwork.SERVER4_LINK1, TestNetwork.SERVER6_LINK1)) {
            byte[] first = knock(alice, 60);
            send(net.client1, server, first, 1);
            await("the grant at " + server, () -> reachable(net.client1, server));
            int replays = audit().split("\"reason\":\"REPLAY\"", -1).length;
            send(net.client1, server, first, 1);
            await("the replay to " + server + " to be audited",
                    () -> audit().split("\"reason\":\"REPLAY\"", -1).length > replays);
            send(net.client1, server, new byte[] {1, 2, 3, 4}, 5);
        }

        publishCrl(f.ca.crl().number(2).revoke(alice.certificate()).build());
        for (String server : List.of(TestNetwork.SERVER4_LINK1, TestNetwork.SERVER6_LINK1)) {
            await("the revoked certificate's grant at " + server + " to close", () -> !reachable(net.client1, server));
            int revoked = audit().split("\"reason\":\"REVOKED\"", -1).length;
            send(net.client1, server, knock(alice, 60), 1);
            await("the revoked knock to " + server + " to be refused",
                    () -> audit().split("\"reason\":\"REVOKED\"", -1).length > revoked);
            assertThat(reachable(net.client1, server)).isFalse();
        }

        dump.destroy();
        dump.waitFor(5, TimeUnit.SECONDS);
        List<String> seen = Files.readAllLines(pcapOut, StandardCharsets.UTF_8).stream()
                .filter(l -> l.contains(TestNetwork.SERVER4_LINK1 + ".") || l.contains(TestNetwork.SERVER6_LINK1 + ".")
                        || l.contains("ICMP")).toList();
        assertThat(seen).as("packets from the server: one sealed reply per valid knock, from the knock port, "
                + "smaller than the knock; nothing else").hasSize(2).allSatisfy(l -> assertThat(l)
                        .matches(".*(" + java.util.regex.Pattern.quote(TestNetwork.SERVER4_LINK1) + "|"
                                + java.util.regex.Pattern.quote(TestNetwork.SERVER6_LINK1) + ")\\." + KNOCK_PORT
                                + " > .*: UDP, length (4[0-9]|5[0-9]|6[01])$"));
    }

    @Test
    void revocationAlsoCutsTheConnectionsItsGrantLetIn() throws Exception {
        IssuedCertificate dave = f.client("dave").build();
        send(net.client1, TestNetwork.SERVER4_LINK1, knock(dave, 60), 1);
        await("the grant", () -> reachable(net.client1, TestNetwork.SERVER4_LINK1));
        // connects and echoes now, talks again 6 s later: after the revocation below has cut it
        Process held = new ProcessBuilder(in(net.client1, "python3", "-c", HOLD, TestNetwork.SERVER4_LINK1, "6"))
                .redirectErrorStream(true).start();
        processes.add(held);
        Thread.sleep(1000);
        assertThat(held.isAlive()).as("the held connection is up").isTrue();
        publishCrl(f.ca.crl().number(2).revoke(dave.certificate()).build());
        await("the connections to be cut", () -> log().matches("(?s).*cut [1-9][0-9]* connection\\(s\\) of revoked.*"));
        assertThat(reachable(net.client1, TestNetwork.SERVER4_LINK1)).as("no new connection either").isFalse();
        assertThat(held.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(held.exitValue()).as("the established connection was cut: "
                + new String(held.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isNotZero();
    }

    @Test
    void grantsCloseOnTimeAfterSigkillAndReplaysStayRefusedAfterRestart() throws Exception {
        IssuedCertificate bob = f.client("bob").build();
        byte[] knock = knock(bob, 8);
        long sent = System.nanoTime();
        send(net.client1, TestNetwork.SERVER4_LINK1, knock, 1);
        await("the grant", () -> reachable(net.client1, TestNetwork.SERVER4_LINK1));
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        sleepUntil(sent, Duration.ofMillis(6500));
        assertThat(reachable(net.client1, TestNetwork.SERVER4_LINK1)).as("still open: the kernel holds the grant").isTrue();
        await("the kernel to close the grant on time", () -> !reachable(net.client1, TestNetwork.SERVER4_LINK1));
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("closed on time with the server dead")
                .isLessThan(Duration.ofSeconds(11));

        startServer();
        send(net.client1, TestNetwork.SERVER4_LINK1, knock, 1);
        await("the replay after restart to be refused", () -> audit().split("\"reason\":\"REPLAY\"", -1).length > 1);
        assertThat(reachable(net.client1, TestNetwork.SERVER4_LINK1)).isFalse();
    }

    @Test
    void aValidKnockOpensDuringAJunkFlood() throws Exception {
        IssuedCertificate carol = f.client("carol").build();
        byte[] junk = new byte[700];
        new java.util.Random(7).nextBytes(junk);
        junk[0] = 1;
        junk[1] = 1; // a plausible header: junk that reaches the key-id check
        // Bounded by time first: a sender on an idle machine does 200k+ datagrams a second, so a small count
        // would end the flood before the valid knock is sent. The count only caps a runaway.
        int most = 3_000_000;
        double floodFor = 6.0;
        byte[] valid = knock(carol, 30);
        long start = System.nanoTime();
        Process flooder = new ProcessBuilder(in(net.client2, "python3", "-c", FLOOD, TestNetwork.SERVER4_LINK2,
                HexFormat.of().formatHex(junk), Integer.toString(most), Double.toString(floodFor))).start();
        processes.add(flooder);
        Thread.sleep(500);
        send(net.client1, TestNetwork.SERVER4_LINK1, valid, 1);
        long sent = System.nanoTime();
        assertThat(flooder.isAlive()).as("the flood is still running when the valid knock arrives").isTrue();
        await("the port to open during the flood", () -> reachable(net.client1, TestNetwork.SERVER4_LINK1));
        long opened = System.nanoTime();
        assertThat(flooder.waitFor(30, TimeUnit.SECONDS)).isTrue();
        double floodSeconds = (System.nanoTime() - start) / 1e9;
        assertThat(flooder.exitValue()).isZero();
        long flood = Long.parseLong(new String(flooder.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip());
        Thread.sleep(1500); // one more statistics line, with the whole flood in it
        System.out.printf("flood: %d junk datagrams in %.2f s (%.0f/s) from client 2; the valid knock opened tcp/22 "
                + "%.0f ms after it was sent (1 s probe resolution)%nserver figures: %s%n", flood, floodSeconds,
                flood / floodSeconds, (opened - sent) / 1e6, lastStatsLine());
        assertThat(audit()).contains("\"event\":\"accepted\"").contains("CN=carol");
    }
}
