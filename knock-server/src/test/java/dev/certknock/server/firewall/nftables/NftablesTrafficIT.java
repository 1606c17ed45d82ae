package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.pipeline.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TCP through the rules: a server namespace and a client namespace joined by a veth pair (TEST-NET
 * addresses, inside our namespaces only), a TCP echo service on the protected port 22 in the server
 * namespace, python3 for the sockets. Closed before the grant, open during it, closed after it, and a
 * connection made during the grant keeps working after the expiry.
 */
class NftablesTrafficIT {

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

    String server;
    String client;
    Process service;

    @BeforeAll
    static void requireTools() {
        NftablesFirewallIT.requireRootNftAndIp();
        assumeTrue(NftablesFirewallIT.quietly(List.of("python3", "--version")).isPresent(),
                "skipped: the traffic test needs python3 for its TCP service and client");
    }

    @BeforeEach
    void createNamespaces() throws Exception {
        String id = HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(4));
        server = "ck-test-s" + id;
        client = "ck-test-c" + id;
        assumeTrue(NftablesFirewallIT.quietly(List.of("ip", "netns", "add", server)).isPresent(),
                "skipped: cannot create a network namespace here");
        NftablesFirewallIT.run("ip", "netns", "add", client);
        NftablesFirewallIT.run("ip", "link", "add", "cks" + id, "netns", server, "type", "veth", "peer", "name",
                "ckc" + id, "netns", client);
        setUp(server, "cks" + id, "192.0.2.1/24", "2001:db8::1/64");
        setUp(client, "ckc" + id, "192.0.2.2/24", "2001:db8::2/64");
        service = new ProcessBuilder("ip", "netns", "exec", server, "python3", "-c", SERVICE)
                .redirectErrorStream(true).start();
    }

    static void setUp(String ns, String dev, String v4, String v6) throws Exception {
        NftablesFirewallIT.run("ip", "-n", ns, "link", "set", "lo", "up");
        NftablesFirewallIT.run("ip", "-n", ns, "addr", "add", v4, "dev", dev);
        NftablesFirewallIT.run("ip", "-n", ns, "addr", "add", v6, "dev", dev, "nodad");
        NftablesFirewallIT.run("ip", "-n", ns, "link", "set", dev, "up");
    }

    @AfterEach
    void deleteNamespaces() throws Exception {
        if (service != null) {
            service.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        for (String ns : new String[] {server, client}) {
            if (ns != null) {
                NftablesFirewallIT.quietly(List.of("ip", "netns", "del", ns));
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

    @ParameterizedTest(name = "{0}")
    @CsvSource({"IPv4, 192.0.2.1, 192.0.2.2", "IPv6, 2001:db8::1, 2001:db8::2"})
    void closedThenOpenThenClosedAndEstablishedSurvives(String family, String serverAddress, String clientAddress)
            throws Exception {
        // wait for the service to listen, through the loopback (always accepted)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (NftablesFirewallIT.quietly(List.of("ip", "netns", "exec", server, "python3", "-c",
                "import socket; socket.create_connection(('::1', 22), timeout=1).close()")).isEmpty()) {
            assertThat(System.nanoTime()).as("service listening").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(connects(serverAddress)).as("reachable before the firewall").isTrue();
        NftablesFirewall fw = new NftablesFirewall(new NftSettings("certknock", 62201,
                List.of(PortGrant.parse("tcp/22")), false, false, List.of("ip", "netns", "exec", server)),
                Clock.systemUTC(), new KnockEventListener() {
                });
        fw.start();
        assertThat(connects(serverAddress)).as("closed before the grant").isFalse();

        fw.open(new GrantDecision(InetAddress.getByName(clientAddress), List.of(PortGrant.parse("tcp/22")),
                Duration.ofSeconds(3), Instant.now(), new X500Principal("CN=alice"), new X500Principal("CN=CA"),
                BigInteger.ONE));
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
        fw.close();
    }
}
