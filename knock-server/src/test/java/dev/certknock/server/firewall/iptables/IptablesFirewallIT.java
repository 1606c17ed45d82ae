package dev.certknock.server.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.firewall.HolderTags;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;
import dev.certknock.server.grant.TestHolders;
import dev.certknock.server.process.ProcessRunner;
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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The iptables writer under the one {@link GrantLedger}, against the real kernel and tools, inside a network
 * namespace created for each test (and deleted even when it fails): the host's own iptables and ipsets are never
 * touched. Runs as root when ip, ipset, iptables, ip6tables and their -restore tools are installed (Debian:
 * {@code apt-get install iproute2 ipset iptables}); skipped with the reason otherwise.
 */
class IptablesFirewallIT {

    private static final X500Principal ROOT = new X500Principal("CN=test root CA");
    private static final X500Principal INTERMEDIATE = new X500Principal("CN=test intermediate CA");
    private static final CertRef INTERMEDIATE_REF = TestHolders.ref(ROOT, BigInteger.valueOf(0x1a));
    private static final Holder ALICE = TestHolders.holder(new X500Principal("CN=alice"), ROOT, BigInteger.valueOf(5));
    private static final Holder BOB = TestHolders.holder(new X500Principal("CN=bob"), ROOT, BigInteger.valueOf(6));
    private static final Holder BOB_AGAIN = TestHolders.holder(new X500Principal("CN=bob"), ROOT, BigInteger.valueOf(7));
    private static final Holder CAROL = underIntermediate("CN=carol", 8);
    private static final Holder DAVE = underIntermediate("CN=dave", 9);
    private static final Pattern TIMEOUT = Pattern.compile(" timeout ([0-9]+)");
    private static final ProcessRunner HOST = new ProcessRunner(List.of(), Duration.ofSeconds(20));

    private final IptablesSettings settings = IptablesSettings.of(62201,
            List.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/2222"), PortGrant.parse("udp/8000-8100")));
    private final List<GrantLedger> started = new ArrayList<>();
    private String ns;
    /** What the writer runs through: as the server's own runner, with its default output limit. */
    private ProcessRunner inNs;
    /** What the test reads the kernel with: room for any listing. */
    private ProcessRunner inspect;
    private IptablesWriter writer;

    /** A leaf issued by the intermediate CA, which the root issued: a path of two certificates. */
    private static Holder underIntermediate(String subject, long serial) {
        return new Holder(new X500Principal(subject), INTERMEDIATE, List.of(TestHolders.ref(INTERMEDIATE,
                BigInteger.valueOf(serial)), INTERMEDIATE_REF));
    }

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
        String name = "ck-ipt-" + HexFormat.of().formatHex(r);
        ProcessRunner.Result add = HOST.run(List.of("ip", "netns", "add", name));
        assumeTrue(add.succeeded(), "IptablesFirewallIT skipped: cannot create a network namespace: " + add.describe());
        ns = name;
        inNs = new ProcessRunner(List.of("ip", "netns", "exec", ns), Duration.ofSeconds(20), IptablesWriter.MAX_OUTPUT_BYTES);
        inspect = new ProcessRunner(List.of("ip", "netns", "exec", ns), Duration.ofSeconds(20), 16 << 20);
        assertThat(inNs.run(List.of("ip", "link", "set", "lo", "up")).succeeded()).isTrue();
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        try {
            started.forEach(GrantLedger::close);
        } finally {
            if (ns != null) {
                ProcessRunner.Result del = HOST.run(List.of("ip", "netns", "del", ns));
                ns = null;
                assertThat(del.succeeded()).as(del.describe()).isTrue();
            }
        }
    }

    private GrantLedger start(IptablesSettings s) throws Exception {
        return start(s, GrantLedger.Settings.defaults());
    }

    private GrantLedger start(IptablesSettings s, GrantLedger.Settings limits) throws Exception {
        writer = new IptablesWriter(s, inNs, Clock.systemUTC());
        GrantLedger ledger = new GrantLedger(writer, limits, Clock.systemUTC(), new KnockEventListener() {
        });
        started.add(ledger);
        return ledger.start();
    }

    private List<String> lines(String... argv) throws Exception {
        ProcessRunner.Result r = inspect.run(List.of(argv));
        assertThat(r.succeeded()).as(r.describe()).isTrue();
        assertThat(r.stdoutTruncated()).as("output of " + String.join(" ", argv) + " cut").isFalse();
        return r.stdout().lines().toList();
    }

    /** The {@code add} lines of {@code ipset save SET}. */
    private List<String> elements(String set) throws Exception {
        return lines("ipset", "save", set).stream().filter(l -> l.startsWith("add ")).toList();
    }

    /** The members of the set as {@code ipset list} names them ({@code 192.0.2.1,tcp:22}), sorted. */
    private List<String> members(String set) throws Exception {
        List<String> all = lines("ipset", "list", set);
        int from = all.indexOf("Members:");
        assertThat(from).as("ipset list " + set).isNotNegative();
        return all.subList(from + 1, all.size()).stream().filter(l -> !l.isBlank())
                .map(l -> l.strip().replaceFirst(" .*", ""))
                .sorted().toList();
    }

    /** The member line of one element in {@code ipset save}. */
    private String element(String set, String element) throws Exception {
        return elements(set).stream().filter(l -> l.startsWith("add " + set + " " + element + " ")).findFirst()
                .orElseThrow(() -> new AssertionError(element + " is not in " + set));
    }

    private static long timeoutOf(String element) {
        Matcher m = TIMEOUT.matcher(element);
        assertThat(m.find()).as(element).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String commentOf(Holder h) {
        return "comment \"" + HolderTags.format(h) + "\"";
    }

    private static GrantDecision grant(String address, Duration d, Holder holder, String... grants) throws Exception {
        return new GrantDecision(InetAddress.getByName(address), Arrays.stream(grants).map(PortGrant::parse).toList(),
                d, Instant.now(), holder);
    }

    private static List<String> ports(String address, String protocol, int first, int last) {
        List<String> out = new ArrayList<>();
        for (int p = first; p <= last; p++) {
            out.add(address + "," + protocol + ":" + p);
        }
        return out;
    }

    private static List<String> sorted(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all.stream().sorted().toList();
    }

    @Test
    void setUpTwiceAndARestartLeaveOneJumpAndOneCopyOfTheRules() throws Exception {
        start(settings);
        writer.setUp();
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
        // a set of that name with other parameters is refused with a hint
        assertThatThrownBy(() -> start(settings.withMaxElements(100))).isInstanceOf(FirewallException.class)
                .hasMessageContaining("already exists").hasMessageContaining("ipset destroy certknock4");
    }

    @Test
    void openAddsOneEntryPerPortWithTimeoutsAndReopenRefreshesWithoutDuplicating() throws Exception {
        GrantLedger fw = start(settings);
        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(4), ALICE, "tcp/22", "udp/8000-8003")))
                .isEqualTo(GrantOutcome.OPENED);
        fw.open(grant("2001:db8::1", Duration.ofSeconds(60), ALICE, "tcp/22"));
        List<String> v4 = elements("certknock4");
        assertThat(v4).hasSize(5).allMatch(l -> l.endsWith(commentOf(ALICE)))
                .allMatch(l -> timeoutOf(l) >= 2 && timeoutOf(l) <= 4)
                .anyMatch(l -> l.startsWith("add certknock4 192.0.2.1,udp:8002 "));
        assertThat(elements("certknock6")).singleElement().satisfies(l -> {
            assertThat(l).startsWith("add certknock6 2001:db8::1,tcp:22 timeout ");
            assertThat(timeoutOf(l)).isBetween(55L, 60L);
        });
        Thread.sleep(2000);
        assertThat(elements("certknock4")).allMatch(l -> timeoutOf(l) <= 2);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, "tcp/22", "udp/8000-8003"));
        assertThat(elements("certknock4")).hasSize(5).allMatch(l -> timeoutOf(l) >= 58);
        assertThat(fw.active(Instant.now())).hasSize(2);
    }

    @Test
    void entriesExpireByThemselvesEvenWithTheServerGone() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.2", Duration.ofSeconds(2), ALICE, "tcp/22"));
        fw.open(grant("2001:db8::2", Duration.ofSeconds(2), ALICE, "tcp/22"));
        fw.close();
        assertThat(elements("certknock4")).hasSize(1);
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(10).toNanos();
        while (!elements("certknock4").isEmpty() || !elements("certknock6").isEmpty()) {
            assertThat(System.nanoTime()).as("the kernel should have expired the elements").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofSeconds(1));
    }

    @Test
    void revocationOfALeafOrAnIntermediateRemovesItsEntriesAlsoAfterARestart() throws Exception {
        GrantLedger before = start(settings);
        before.open(grant("192.0.2.3", Duration.ofSeconds(60), ALICE, "tcp/22", "udp/8000-8010"));
        before.open(grant("192.0.2.4", Duration.ofSeconds(60), BOB, "tcp/22"));
        before.open(grant("192.0.2.5", Duration.ofSeconds(60), CAROL, "tcp/22"));
        before.open(grant("2001:db8::5", Duration.ofSeconds(60), CAROL, "tcp/2222"));
        before.open(grant("192.0.2.6", Duration.ofSeconds(60), DAVE, "udp/8000"));
        assertThat(before.revoke(Set.of(BOB.leaf()))).isEqualTo(1);
        assertThat(members("certknock4")).hasSize(14).noneMatch(l -> l.startsWith("192.0.2.4,"));
        before.open(grant("192.0.2.4", Duration.ofSeconds(60), BOB_AGAIN, "tcp/22"));
        before.close(); // the default: the entries stay until they expire

        // a new ledger rebuilds itself from ipset save: the entries' comments name their holders
        GrantLedger after = start(settings);
        assertThat(after.elementCount()).isEqualTo(16);
        List<String> alice = sorted(ports("192.0.2.3", "tcp", 22, 22), ports("192.0.2.3", "udp", 8000, 8010));
        assertThat(members("certknock4")).containsAll(alice);

        assertThat(after.revoke(Set.of(ALICE.leaf()))).isEqualTo(12);
        assertThat(members("certknock4")).containsExactly("192.0.2.4,tcp:22", "192.0.2.5,tcp:22", "192.0.2.6,udp:8000");
        assertThat(members("certknock6")).containsExactly("2001:db8::5,tcp:2222");
        assertThat(element("certknock4", "192.0.2.4,tcp:22")).endsWith(commentOf(BOB_AGAIN));

        assertThat(after.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(3);
        assertThat(members("certknock4")).containsExactly("192.0.2.4,tcp:22");
        assertThat(members("certknock6")).isEmpty();
        assertThat(after.revoke(Set.of(ALICE.leaf()))).isZero();
        assertThat(after.revoke(Set.of(INTERMEDIATE_REF))).isZero();
        assertThat(members("certknock4")).containsExactly("192.0.2.4,tcp:22");
        // and nothing under the revoked intermediate opens again
        assertThat(after.open(grant("192.0.2.5", Duration.ofSeconds(60), CAROL, "tcp/22")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.REVOKED));
        assertThat(members("certknock4")).containsExactly("192.0.2.4,tcp:22");
    }

    @Test
    void revokingAnIntermediateClosesEveryGrantBelowItInOneRun() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, "tcp/22"));
        fw.open(grant("192.0.2.2", Duration.ofSeconds(60), CAROL, "tcp/22", "udp/8000-8002"));
        fw.open(grant("2001:db8::3", Duration.ofSeconds(60), DAVE, "tcp/22"));
        assertThat(element("certknock4", "192.0.2.2,udp:8001")).endsWith(
                "comment \"ck1 " + CAROL.leaf().tag() + " " + INTERMEDIATE_REF.tag() + "\"");
        assertThat(fw.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(2);
        assertThat(members("certknock4")).containsExactly("192.0.2.1,tcp:22");
        assertThat(members("certknock6")).isEmpty();
        assertThat(fw.active(Instant.now())).extracting(GrantDecision::holder).containsExactly(ALICE);
        assertThat(fw.open(grant("2001:db8::3", Duration.ofSeconds(60), DAVE, "tcp/22")))
                .isInstanceOf(GrantOutcome.Refused.class);
        assertThat(members("certknock6")).isEmpty();
    }

    @Test
    void twoElementsOnOnePortShareTheEntryUntilBothAreGone() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, "tcp/22"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB, "tcp/20-30"));
        assertThat(members("certknock4")).hasSize(11);
        String shared = element("certknock4", "192.0.2.1,tcp:22");
        assertThat(shared).endsWith(commentOf(BOB));
        assertThat(timeoutOf(shared)).isBetween(55L, 60L);

        assertThat(fw.revoke(Set.of(BOB.leaf()))).isEqualTo(1);
        assertThat(members("certknock4")).containsExactly("192.0.2.1,tcp:22");
        String kept = element("certknock4", "192.0.2.1,tcp:22");
        assertThat(kept).endsWith(commentOf(ALICE));
        assertThat(timeoutOf(kept)).isBetween(25L, 30L);

        assertThat(fw.revoke(Set.of(ALICE.leaf()))).isEqualTo(1);
        assertThat(members("certknock4")).isEmpty();
    }

    @Test
    void theLimitsRefuseBeforeAnythingIsWrittenButNotARepeatedKnock() throws Exception {
        GrantLedger fw = start(settings, new GrantLedger.Settings(4, 2, false));
        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, "tcp/22", "udp/8000-8003")))
                .isEqualTo(GrantOutcome.OPENED);
        List<String> aliceOnly = sorted(List.of("192.0.2.1,tcp:22"), ports("192.0.2.1", "udp", 8000, 8003));
        assertThat(members("certknock4")).isEqualTo(aliceOnly);

        // a third element for alice's certificate: refused whole, nothing written
        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, "tcp/22", "tcp/2222")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.CERTIFICATE_LIMIT));
        assertThat(fw.open(grant("2001:db8::1", Duration.ofSeconds(30), ALICE, "tcp/22")))
                .isInstanceOf(GrantOutcome.Refused.class);
        assertThat(members("certknock4")).isEqualTo(aliceOnly);
        assertThat(members("certknock6")).isEmpty();

        // another certificate still opens, up to the total
        assertThat(fw.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB, "tcp/22", "tcp/2222")))
                .isEqualTo(GrantOutcome.OPENED);
        List<String> both = sorted(aliceOnly, List.of("192.0.2.2,tcp:22", "192.0.2.2,tcp:2222"));
        assertThat(members("certknock4")).isEqualTo(both);
        assertThat(fw.elementCount()).isEqualTo(4);

        // the total is reached: a new element for a third certificate is refused, nothing written
        assertThat(fw.open(grant("2001:db8::3", Duration.ofSeconds(30), CAROL, "tcp/22")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.TOTAL_LIMIT));
        assertThat(members("certknock4")).isEqualTo(both);
        assertThat(members("certknock6")).isEmpty();

        // a repeated knock for elements already held adds nothing: never refused, and it extends them
        assertThat(fw.open(grant("192.0.2.1", Duration.ofMinutes(2), ALICE, "tcp/22", "udp/8000-8003")))
                .isEqualTo(GrantOutcome.OPENED);
        assertThat(elements("certknock4")).filteredOn(l -> l.contains(" 192.0.2.1,")).hasSize(5)
                .allMatch(l -> timeoutOf(l) >= 115);
        // one of them alone too (a subset of what she holds)
        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, "tcp/22"))).isEqualTo(GrantOutcome.OPENED);
        // carol may even share an element already open: it adds no element
        assertThat(fw.open(grant("192.0.2.2", Duration.ofSeconds(30), CAROL, "tcp/22"))).isEqualTo(GrantOutcome.OPENED);
        assertThat(members("certknock4")).isEqualTo(both);
        assertThat(fw.elementCount()).isEqualTo(4);
        assertThat(fw.elementCount(ALICE.leaf())).isEqualTo(2);
    }

    @Test
    void aFullSetRefusesTheGrantAndTheEntriesItsBatchAddedAreTakenBack() throws Exception {
        GrantLedger fw = start(settings.withMaxElements(3));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, "tcp/22-23"));
        assertThatThrownBy(() -> fw.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB, "tcp/22-23")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("Hash is full");
        // ipset restore added 192.0.2.2 port 22 before it refused port 23: the writer deleted it again
        assertThat(members("certknock4")).containsExactly("192.0.2.1,tcp:22", "192.0.2.1,tcp:23");
        assertThat(fw.active(Instant.now())).extracting(GrantDecision::holder).containsExactly(ALICE);
        // the other family has its own set
        assertThat(fw.open(grant("2001:db8::2", Duration.ofSeconds(30), BOB, "tcp/22-23"))).isEqualTo(
                GrantOutcome.OPENED);
        assertThat(members("certknock6")).containsExactly("2001:db8::2,tcp:22", "2001:db8::2,tcp:23");
    }

    @Test
    void removeAllOnStopEmptiesTheSetsButKeepsTheRulesAndUninstallRemovesEverything() throws Exception {
        GrantLedger fw = start(settings, GrantLedger.Settings.defaults().withRemoveAllOnStop(true));
        fw.open(grant("192.0.2.5", Duration.ofSeconds(60), ALICE, "tcp/22"));
        fw.open(grant("2001:db8::5", Duration.ofSeconds(60), ALICE, "tcp/22"));
        fw.close();
        assertThat(elements("certknock4")).isEmpty();
        assertThat(elements("certknock6")).isEmpty();
        assertThat(lines("iptables", "-S", "INPUT")).contains("-A INPUT -j CERTKNOCK");

        // a second jump (say, from an older release) goes too
        assertThat(inNs.run(List.of("iptables", "-A", "INPUT", "-j", "CERTKNOCK")).succeeded()).isTrue();
        GrantLedger again = start(settings);
        again.open(grant("192.0.2.5", Duration.ofSeconds(60), ALICE, "tcp/22"));
        writer.uninstall();
        for (String tables : List.of("iptables", "ip6tables")) {
            assertThat(lines(tables, "-S")).noneMatch(l -> l.contains("CERTKNOCK"));
        }
        assertThat(lines("ipset", "list", "-n")).isEmpty();
        writer.uninstall();
        start(settings);
        assertThat(lines("iptables", "-S", "INPUT")).filteredOn(l -> l.contains("CERTKNOCK")).hasSize(1);
        assertThat(lines("ipset", "list", "-n")).containsExactlyInAnyOrder("certknock4", "certknock6");
    }

    @Test
    void afterARestartEveryEntryIsReadBackHoweverManyThereAre() throws Exception {
        GrantLedger before = start(settings);
        before.open(grant("192.0.2.1", Duration.ofMinutes(2), CAROL, "udp/1-1000"));
        before.close();
        assertThat(members("certknock4")).hasSize(1000);
        GrantLedger after = start(settings);
        assertThat(after.elementCount()).isEqualTo(1000);
        after.revoke(Set.of(CAROL.leaf()));
        assertThat(members("certknock4")).isEmpty();
    }
}
