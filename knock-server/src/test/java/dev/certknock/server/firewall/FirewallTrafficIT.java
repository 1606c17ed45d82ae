package dev.certknock.server.firewall;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.firewall.iptables.IptablesWriter;
import dev.certknock.server.firewall.iptables.IptablesSettings;
import dev.certknock.server.firewall.nftables.NftSettings;
import dev.certknock.server.firewall.nftables.NftWriter;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One contract, every kernel backend: TCP through the rules between a server namespace and a client
 * namespace joined by a veth pair (TEST-NET addresses, inside our namespaces only), a TCP echo service on
 * the protected port 22 in the server namespace, python3 for the sockets. Loopback always passes; the port
 * is closed before the grant, open during it, closed after it; a connection made during the grant keeps
 * working after the expiry. Runs as root with ip, python3 and the backend's tools; skipped otherwise.
 */
class FirewallTrafficIT {

    static final String SERVICE = String.join("\n",
            "import socket, threading",
            "s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)",
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind(('::', 22)); s.listen(16)",
            "def echo(c):",
            "    with c:",
            "        while True:",
            "            d = c.recv(64)",
            "            if not d: return",
            "            c.sendall(d)",
            "while True:",
            "    c, _ = s.accept()",
            "    threading.Thread(target=echo, args=(c,), daemon=True).start()");
    /** Connects, waits argv[2] seconds, then must get its byte echoed back. Exit 0 on success. */
    static final String CLIENT = String.join("\n",
            "import socket, sys, time",
            "c = socket.create_connection((sys.argv[1], 22), timeout=1)",
            "time.sleep(float(sys.argv[2]))",
            "c.settimeout(2); c.sendall(b'x')",
            "sys.exit(0 if c.recv(1) == b'x' else 1)");
    private static final ProcessRunner HOST = new ProcessRunner(List.of(), Duration.ofSeconds(20));
    private static final List<PortGrant> PROTECTED = List.of(PortGrant.parse("tcp/22"));

    /** A kernel backend, started inside a namespace through an {@code ip netns exec NS} prefix. */
    enum Backend {
        NFTABLES(List.of("nft")) {
            @Override
            Firewall start(List<String> prefix) throws FirewallException {
                return new GrantLedger(new NftWriter(new NftSettings("certknock", 62201, PROTECTED, false,
                        prefix)), GrantLedger.Settings.defaults(), Clock.systemUTC(), new KnockEventListener() {
                        }).start();
            }
        },
        IPTABLES(List.of("iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "ipset")) {
            @Override
            Firewall start(List<String> prefix) throws FirewallException {
                return new GrantLedger(new IptablesWriter(IptablesSettings.of(62201, PROTECTED),
                        new ProcessRunner(prefix, Duration.ofSeconds(20)), Clock.systemUTC()), GrantLedger.Settings.defaults(),
                        Clock.systemUTC(), new KnockEventListener() {
                        }).start();
            }
        };

        final List<String> tools;

        Backend(List<String> tools) {
            this.tools = tools;
        }

        abstract Firewall start(List<String> prefix) throws FirewallException;
    }

    String server;
    String client;
    Process service;
    Firewall firewall;

    private static boolean ok(List<String> argv) throws Exception {
        return HOST.run(argv).succeeded();
    }

    private static void run(String... argv) throws Exception {
        ProcessRunner.Result r = HOST.run(List.of(argv));
        assertThat(r.succeeded()).as(r.describe()).isTrue();
    }

    void createNamespaces(Backend backend) throws Exception {
        assumeTrue(HOST.run(List.of("id", "-u")).stdout().strip().equals("0"), "skipped: needs root (network namespaces)");
        for (String tool : concat(List.of("ip", "python3"), backend.tools)) {
            assumeTrue(ok(List.of("/bin/sh", "-c", "command -v " + tool)),
                    "skipped: '" + tool + "' is not installed (.ci/run installs it)");
        }
        String id = HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(4));
        server = "ck-fw-s" + id;
        client = "ck-fw-c" + id;
        assumeTrue(ok(List.of("ip", "netns", "add", server)), "skipped: cannot create a network namespace here");
        run("ip", "netns", "add", client);
        run("ip", "link", "add", "cks" + id, "netns", server, "type", "veth", "peer", "name", "ckc" + id, "netns", client);
        setUp(server, "cks" + id, "192.0.2.1/24", "2001:db8::1/64");
        setUp(client, "ckc" + id, "192.0.2.2/24", "2001:db8::2/64");
        service = new ProcessBuilder("ip", "netns", "exec", server, "python3", "-c", SERVICE).redirectErrorStream(true)
                .start();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }

    private static void setUp(String ns, String dev, String v4, String v6) throws Exception {
        run("ip", "-n", ns, "link", "set", "lo", "up");
        run("ip", "-n", ns, "addr", "add", v4, "dev", dev);
        run("ip", "-n", ns, "addr", "add", v6, "dev", dev, "nodad");
        run("ip", "-n", ns, "link", "set", dev, "up");
    }

    @AfterEach
    void deleteNamespaces() throws Exception {
        if (firewall != null) {
            firewall.close();
        }
        if (service != null) {
            service.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        for (String ns : new String[] {server, client}) {
            if (ns != null) {
                HOST.run(List.of("ip", "netns", "del", ns));
            }
        }
    }

    Process connect(String address, double holdSeconds) throws Exception {
        return new ProcessBuilder("ip", "netns", "exec", client, "python3", "-c", CLIENT, address,
                Double.toString(holdSeconds)).redirectErrorStream(true).start();
    }

    boolean connects(String address) throws Exception {
        Process p = connect(address, 0);
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() == 0;
    }

    /** Every kernel backend, over IPv4 and IPv6: backend, family, server address, client address. */
    static Stream<Arguments> backendsAndFamilies() {
        return Stream.of(Backend.values()).flatMap(b -> Stream.of(
                Arguments.of(b, "IPv4", "192.0.2.1", "192.0.2.2"),
                Arguments.of(b, "IPv6", "2001:db8::1", "2001:db8::2")));
    }

    /** The namespaces, and the TCP service listening (checked through the loopback, which always passes). */
    void createNamespacesAndService(Backend backend) throws Exception {
        createNamespaces(backend);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!loopbackConnects()) {
            assertThat(System.nanoTime()).as("service listening").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    boolean loopbackConnects() throws Exception {
        return ok(List.of("ip", "netns", "exec", server, "python3", "-c",
                "import socket; socket.create_connection(('::1', 22), timeout=1).close()"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndFamilies")
    void closedThenOpenThenClosedAndEstablishedSurvives(Backend backend, String family, String serverAddress,
            String clientAddress) throws Exception {
        createNamespacesAndService(backend);
        assertThat(connects(serverAddress)).as("reachable before the firewall").isTrue();
        firewall = backend.start(List.of("ip", "netns", "exec", server));
        assertThat(loopbackConnects()).as("loopback passes the protected port").isTrue();
        assertThat(connects(serverAddress)).as("closed before the grant").isFalse();

        firewall.open(TestHolders.decision(InetAddress.getByName(clientAddress), PROTECTED, Duration.ofSeconds(3),
                Instant.now(), new X500Principal("CN=alice"), new X500Principal("CN=CA"), BigInteger.ONE));
        long opened = System.nanoTime();
        assertThat(connects(serverAddress)).as("open during the grant").isTrue();
        Process established = connect(serverAddress, 4.5); // connects now, talks after the expiry

        while (System.nanoTime() - opened < TimeUnit.MILLISECONDS.toNanos(3500)) {
            Thread.sleep(100);
        }
        assertThat(connects(serverAddress)).as("closed after the grant expired").isFalse();
        assertThat(established.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(established.exitValue()).as("established connection survives the expiry: "
                + new String(established.getInputStream().readAllBytes())).isZero();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndFamilies")
    void closingACertificatesGrantsShutsTheDoorAtOnce(Backend backend, String family, String serverAddress,
            String clientAddress) throws Exception {
        createNamespacesAndService(backend);
        firewall = backend.start(List.of("ip", "netns", "exec", server));
        X500Principal ca = new X500Principal("CN=CA");
        firewall.open(TestHolders.decision(InetAddress.getByName(clientAddress), PROTECTED, Duration.ofSeconds(60),
                Instant.now(), new X500Principal("CN=alice"), ca, BigInteger.TEN));
        assertThat(connects(serverAddress)).as("open during the grant").isTrue();
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(ca, BigInteger.TWO)))).as("another certificate's grants: none").isZero();
        assertThat(connects(serverAddress)).as("still open").isTrue();
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(ca, BigInteger.TEN)))).isEqualTo(1);
        assertThat(connects(serverAddress)).as("closed at once, 60 s before the grant's end").isFalse();
    }
}
