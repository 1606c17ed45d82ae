package dev.certknock.server.firewall.iptables;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The iptables backend against the real kernel and tools, inside a network namespace created for each test
 * (and deleted even when it fails): the host's own iptables and ipsets are never touched. Runs as root when
 * ip, ipset, iptables, ip6tables and their -restore tools are installed (Debian: {@code apt-get install
 * iproute2 ipset iptables}); skipped with the reason otherwise.
 */
class IptablesFirewallIT {

    private static final X500Principal ISSUER = new X500Principal("CN=test CA");
    private static final X500Principal ALICE = new X500Principal("CN=alice");
    private static final X500Principal BOB = new X500Principal("CN=bob");
    private static final Pattern TIMEOUT = Pattern.compile(" timeout ([0-9]+)");
    private static final ProcessRunner HOST = new ProcessRunner(List.of(), Duration.ofSeconds(20));

    private final IptablesSettings settings = IptablesSettings.of(62201,
            List.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/2222"), PortGrant.parse("udp/8000-8100")));
    private final List<IptablesFirewall> started = new ArrayList<>();
    private String ns;
    private ProcessRunner inNs;

    @BeforeAll
    static void needsRootAndTools() throws Exception {
        assumeTrue(HOST.run(List.of("id", "-u")).stdout().strip().equals("0"),
                "IptablesFirewallIT skipped: needs root (it creates a network namespace)");
        for (String tool : List.of("ip", "ipset", "iptables", "ip6tables", "iptables-restore", "ip6tables-restore")) {
            assumeTrue(HOST.run(List.of("/bin/sh", "-c", "command -v " + tool)).succeeded(),
                    "IptablesFirewallIT skipped: '" + tool + "' is not installed (apt-get install iproute2 ipset iptables)");
        }
    }

    @BeforeEach
    void createNamespace() throws Exception {
        byte[] r = new byte[4];
        new SecureRandom().nextBytes(r);
        ns = "ck-ipt-" + HexFormat.of().formatHex(r);
        ProcessRunner.Result add = HOST.run(List.of("ip", "netns", "add", ns));
        assumeTrue(add.succeeded(), "IptablesFirewallIT skipped: cannot create a network namespace: " + add.describe());
        inNs = new ProcessRunner(List.of("ip", "netns", "exec", ns), Duration.ofSeconds(20));
        assertThat(inNs.run(List.of("ip", "link", "set", "lo", "up")).succeeded()).isTrue();
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        try {
            started.forEach(IptablesFirewall::close);
        } finally {
            if (ns != null) {
                ProcessRunner.Result del = HOST.run(List.of("ip", "netns", "del", ns));
                assertThat(del.succeeded()).as(del.describe()).isTrue();
            }
        }
    }

    private IptablesFirewall start(IptablesSettings s) throws Exception {
        IptablesFirewall fw = IptablesFirewall.start(s, inNs, Clock.systemUTC(), new KnockEventListener() {
        });
        started.add(fw);
        return fw;
    }

    private List<String> lines(String... argv) throws Exception {
        ProcessRunner.Result r = inNs.run(List.of(argv));
        assertThat(r.succeeded()).as(r.describe()).isTrue();
        return r.stdout().lines().toList();
    }

    private List<String> elements(String set) throws Exception {
        return lines("ipset", "save", set).stream().filter(l -> l.startsWith("add ")).toList();
    }

    private static long timeoutOf(String element) {
        Matcher m = TIMEOUT.matcher(element);
        assertThat(m.find()).as(element).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static GrantDecision grant(String address, Duration d, X500Principal subject, long serial,
            String... grants) throws Exception {
        return TestHolders.decision(InetAddress.getByName(address), Arrays.stream(grants).map(PortGrant::parse).toList(),
                d, Instant.now(), subject, ISSUER, BigInteger.valueOf(serial));
    }

    @Test
    void setupTwiceAndARestartLeaveOneJumpAndOneCopyOfTheRules() throws Exception {
        IptablesFirewall first = start(settings);
        first.setup();
        start(settings);
        for (String tables : List.of("iptables", "ip6tables")) {
            assertThat(lines(tables, "-S", "INPUT")).filteredOn(l -> l.contains("CERTKNOCK"))
                    .containsExactly("-A INPUT -j CERTKNOCK");
        }
        assertThat(lines("iptables", "-S", "CERTKNOCK")).containsExactly("-N CERTKNOCK",
                "-A CERTKNOCK -p udp -m udp --dport 62201 -j DROP",
                "-A CERTKNOCK -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "-A CERTKNOCK -i lo -j ACCEPT",
                "-A CERTKNOCK -m set --match-set certknock4 src,dst -j ACCEPT",
                "-A CERTKNOCK -p tcp -m tcp --dport 22 -j DROP",
                "-A CERTKNOCK -p tcp -m tcp --dport 2222 -j DROP",
                "-A CERTKNOCK -p udp -m udp --dport 8000:8100 -j DROP");
        assertThat(lines("ip6tables", "-S", "CERTKNOCK")).hasSize(12)
                .contains("-A CERTKNOCK -i lo -j ACCEPT", "-A CERTKNOCK -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT",
                        "-A CERTKNOCK -m set --match-set certknock6 src,dst -j ACCEPT");
        assertThat(lines("ipset", "list", "-n")).containsExactlyInAnyOrder("certknock4", "certknock6");
        // a changed configuration replaces the rules, it does not add to them
        start(settings.withReject(true));
        assertThat(lines("iptables", "-S", "CERTKNOCK")).hasSize(8)
                .contains("-A CERTKNOCK -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset");
        assertThat(lines("iptables", "-S", "INPUT")).filteredOn(l -> l.contains("CERTKNOCK")).hasSize(1);
    }

    @Test
    void openAddsElementsWithTimeoutsAndReopenRefreshesWithoutDuplicating() throws Exception {
        IptablesFirewall fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(4), ALICE, 0x1f, "tcp/22", "udp/8000-8003"));
        fw.open(grant("2001:db8::1", Duration.ofSeconds(60), ALICE, 0x1f, "tcp/22"));
        String comment = IptablesRenderer.comment(ISSUER, BigInteger.valueOf(0x1f));
        List<String> v4 = elements("certknock4");
        assertThat(v4).hasSize(5).allMatch(l -> l.endsWith("comment \"" + comment + "\""))
                .allMatch(l -> timeoutOf(l) >= 2 && timeoutOf(l) <= 4)
                .anyMatch(l -> l.startsWith("add certknock4 192.0.2.1,udp:8002 "));
        assertThat(elements("certknock6")).singleElement().satisfies(l -> {
            assertThat(l).startsWith("add certknock6 2001:db8::1,tcp:22 timeout ");
            assertThat(timeoutOf(l)).isBetween(55L, 60L);
        });
        Thread.sleep(2000);
        assertThat(elements("certknock4")).allMatch(l -> timeoutOf(l) <= 2);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, 0x1f, "tcp/22", "udp/8000-8003"));
        assertThat(elements("certknock4")).hasSize(5).allMatch(l -> timeoutOf(l) >= 58);
    }

    @Test
    void elementsExpireByThemselvesEvenWithTheServerGone() throws Exception {
        IptablesFirewall fw = start(settings);
        fw.open(grant("192.0.2.2", Duration.ofSeconds(2), ALICE, 1, "tcp/22"));
        fw.open(grant("2001:db8::2", Duration.ofSeconds(2), ALICE, 1, "tcp/22"));
        fw.close();
        assertThat(elements("certknock4")).hasSize(1);
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(10).toNanos();
        while (!elements("certknock4").isEmpty() || !elements("certknock6").isEmpty()) {
            assertThat(System.nanoTime()).as("the kernel should have expired the elements").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(1000));
    }

    @Test
    void closeCertificateRemovesItsElementsAlsoAfterARestart() throws Exception {
        IptablesFirewall before = start(settings);
        before.open(grant("192.0.2.3", Duration.ofSeconds(60), ALICE, 5, "tcp/22", "udp/8000-8010"));
        before.open(grant("192.0.2.4", Duration.ofSeconds(60), BOB, 6, "tcp/22"));
        assertThat(before.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(6))))).isEqualTo(1);
        assertThat(elements("certknock4")).hasSize(12).noneMatch(l -> l.contains("192.0.2.4"));
        before.open(grant("192.0.2.4", Duration.ofSeconds(60), BOB, 7, "tcp/22"));
        before.close();

        IptablesFirewall after = start(settings);
        assertThat(after.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isEqualTo(1);
        assertThat(elements("certknock4")).singleElement().asString().startsWith("add certknock4 192.0.2.4,tcp:22 ");
        assertThat(after.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isZero();
    }

    @Test
    void flushOnCloseEmptiesTheSetsButKeepsTheRulesAndUninstallRemovesEverything() throws Exception {
        IptablesFirewall fw = start(settings.withFlushOnClose(true));
        fw.open(grant("192.0.2.5", Duration.ofSeconds(60), ALICE, 5, "tcp/22"));
        fw.close();
        assertThat(elements("certknock4")).isEmpty();
        assertThat(lines("iptables", "-S", "INPUT")).contains("-A INPUT -j CERTKNOCK");

        // a second jump (say, from an older release) goes too
        assertThat(inNs.run(List.of("iptables", "-A", "INPUT", "-j", "CERTKNOCK")).succeeded()).isTrue();
        IptablesFirewall again = start(settings);
        again.uninstall();
        for (String tables : List.of("iptables", "ip6tables")) {
            assertThat(lines(tables, "-S")).noneMatch(l -> l.contains("CERTKNOCK"));
        }
        assertThat(lines("ipset", "list", "-n")).isEmpty();
        again.uninstall();
        start(settings);
        assertThat(lines("iptables", "-S", "INPUT")).filteredOn(l -> l.contains("CERTKNOCK")).hasSize(1);
    }
}
