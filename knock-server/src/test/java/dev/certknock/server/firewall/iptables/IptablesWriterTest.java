package dev.certknock.server.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.firewall.HolderTags;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;
import dev.certknock.server.grant.TestHolders;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.process.ProgramRunner;
import dev.certknock.testing.time.MutableClock;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The iptables writer under the one {@link GrantLedger}, without root: the writer runs its programs through
 * {@link FakeIpTools}, an in-memory ipset and iptables that interprets what the writer sends (the {@code ipset
 * restore} lines, the {@code iptables-restore} batches, the single iptables commands) as the real tools do, answers
 * {@code ipset save} in the real tools' format, expires entries by the test's clock, and can be told to fail. The
 * real tools are exercised by {@code IptablesFirewallIT}.
 */
class IptablesWriterTest {

    private static final X500Principal ROOT = new X500Principal("CN=test root CA");
    private static final X500Principal INTERMEDIATE = new X500Principal("CN=test intermediate CA");
    private static final X500Principal ALICE = new X500Principal("CN=alice");
    private static final X500Principal BOB = new X500Principal("CN=bob");
    private static final X500Principal CAROL = new X500Principal("CN=carol");
    private static final X500Principal DAVE = new X500Principal("CN=dave");
    private static final Instant T0 = Instant.parse("2031-05-04T10:00:00Z");

    /** The intermediate CA certificate, as its issuer (the root) names it. */
    private static final CertRef INTERMEDIATE_REF = TestHolders.ref(ROOT, BigInteger.valueOf(0x1a));
    private static final Holder ALICE_5 = TestHolders.holder(ALICE, ROOT, BigInteger.valueOf(5));
    private static final Holder BOB_6 = TestHolders.holder(BOB, ROOT, BigInteger.valueOf(6));
    private static final Holder CAROL_7 = underIntermediate(CAROL, 7);
    private static final Holder DAVE_8 = underIntermediate(DAVE, 8);

    private final MutableClock clock = MutableClock.at(T0);
    private final FakeIpTools tools = new FakeIpTools(clock);
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final KnockEventListener listener = new KnockEventListener() {
        @Override
        public void grantOpened(GrantDecision d) {
            events.add("opened " + d.subject().getName());
        }

        @Override
        public void grantClosed(GrantDecision d, CloseReason why) {
            events.add("closed " + d.subject().getName() + " " + why.label());
        }
    };
    private final IptablesSettings settings = IptablesSettings.of(62201, List.of(PortGrant.parse("tcp/22")));
    private final List<GrantLedger> started = new ArrayList<>();
    private IptablesWriter writer;

    /** A leaf issued by the intermediate CA, which the root issued: a path of two certificates. */
    private static Holder underIntermediate(X500Principal subject, long serial) {
        return new Holder(subject, INTERMEDIATE, List.of(TestHolders.ref(INTERMEDIATE, BigInteger.valueOf(serial)),
                INTERMEDIATE_REF));
    }

    @AfterEach
    void stop() {
        started.forEach(GrantLedger::close);
    }

    private GrantLedger start(IptablesSettings s) throws FirewallException {
        return start(s, GrantLedger.Settings.defaults());
    }

    private GrantLedger start(IptablesSettings s, GrantLedger.Settings limits) throws FirewallException {
        writer = new IptablesWriter(s, tools, clock);
        GrantLedger ledger = new GrantLedger(writer, limits, clock, listener).start();
        started.add(ledger);
        return ledger;
    }

    private GrantDecision grant(String address, Duration d, Holder holder, String... grants)
            throws UnknownHostException {
        return new GrantDecision(InetAddress.getByName(address), Arrays.stream(grants).map(PortGrant::parse).toList(),
                d, clock.instant(), holder);
    }

    private static String comment(Holder h) {
        return HolderTags.format(h);
    }

    private static String tag(Holder h) {
        return h.leaf().tag();
    }

    // ---- setup ------------------------------------------------------------------------------------------------

    @Test
    void setUpRunsBatchesAndInsertsTheJumpOnlyWhenMissing() throws Exception {
        IptablesRenderer r = new IptablesRenderer(settings);
        start(settings);
        assertThat(tools.calls).containsExactly("ipset restore", "iptables-restore -w --noflush",
                "ip6tables-restore -w --noflush", "iptables -w -C INPUT -j CERTKNOCK",
                "iptables -w -I INPUT 1 -j CERTKNOCK", "ip6tables -w -C INPUT -j CERTKNOCK",
                "ip6tables -w -I INPUT 1 -j CERTKNOCK", "ipset save certknock4", "ipset save certknock6");
        assertThat(tools.batches).containsExactly(r.createSets(), r.chain(IptablesRenderer.Family.V4),
                r.chain(IptablesRenderer.Family.V6));
        assertThat(tools.jumps).containsEntry("iptables", 1).containsEntry("ip6tables", 1);
        assertThat(tools.sets).containsOnlyKeys("certknock4", "certknock6");
        assertThat(tools.sets.get("certknock4").maxelem).isEqualTo(IptablesSettings.DEFAULT_MAX_ELEMENTS);
    }

    @Test
    void setUpAgainAndARestartLeaveOneJumpAndOneCopyOfTheRules() throws Exception {
        GrantLedger first = start(settings);
        first.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/22"));
        writer.setUp();
        first.close();
        tools.forget();
        start(settings);
        assertThat(tools.calls).doesNotContain("iptables -w -I INPUT 1 -j CERTKNOCK",
                "ip6tables -w -I INPUT 1 -j CERTKNOCK");
        assertThat(tools.jumps).containsEntry("iptables", 1).containsEntry("ip6tables", 1);
        assertThat(tools.chains.get("iptables")).isEqualTo(
                new IptablesRenderer(settings).chain(IptablesRenderer.Family.V4).lines()
                        .filter(l -> l.startsWith("-A ")).toList());
        // the grant of the first run is still in the set, with its expiry
        assertThat(tools.saved("certknock4")).containsExactly(
                "add certknock4 192.0.2.1,tcp:22 timeout 60 comment \"" + comment(ALICE_5) + "\"");

        // a changed configuration replaces the rules, it does not add to them
        start(settings.withReject(true));
        assertThat(tools.chains.get("iptables")).hasSize(5)
                .contains("-A CERTKNOCK -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset");
        assertThat(tools.jumps).containsEntry("iptables", 1).containsEntry("ip6tables", 1);
    }

    @Test
    void setUpFailuresSayWhatToDo() throws Exception {
        tools.failOnce("ipset restore", 1, "failed by test");
        assertThatThrownBy(() -> start(settings)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("cannot create the ipsets").hasMessageContaining("failed by test");

        // a set of that name with other parameters: the real ipset's refusal, and the hint
        start(settings);
        assertThatThrownBy(() -> start(settings.withMaxElements(100))).isInstanceOf(FirewallException.class)
                .hasMessageContaining("already exists").hasMessageContaining("ipset destroy certknock4");

        tools.failAlways("ip6tables -w -C INPUT -j CERTKNOCK", 4, "failed by test");
        assertThatThrownBy(() -> start(settings)).hasMessageContaining("cannot check the jump from INPUT");

        tools.notInstalled = true;
        assertThatThrownBy(() -> start(settings)).hasMessageContaining("apt-get install ipset iptables");
    }

    // ---- grants -----------------------------------------------------------------------------------------------

    @Test
    void aGrantIsOneIpsetRestoreWithOneEntryPerPort() throws Exception {
        GrantLedger fw = start(settings);
        tools.forget();
        GrantDecision d = grant("192.0.2.1", Duration.ofMillis(29_500), ALICE_5, "tcp/22", "udp/8000-8003");
        assertThat(fw.open(d)).isEqualTo(GrantOutcome.OPENED);
        String c = comment(ALICE_5);
        assertThat(c).isEqualTo("ck1 " + tag(ALICE_5));
        assertThat(tools.calls).containsExactly("ipset restore");
        assertThat(tools.batches).containsExactly(
                "add certknock4 192.0.2.1,tcp:22 timeout 30 comment \"" + c + "\" -exist\n"
                        + "add certknock4 192.0.2.1,udp:8000 timeout 30 comment \"" + c + "\" -exist\n"
                        + "add certknock4 192.0.2.1,udp:8001 timeout 30 comment \"" + c + "\" -exist\n"
                        + "add certknock4 192.0.2.1,udp:8002 timeout 30 comment \"" + c + "\" -exist\n"
                        + "add certknock4 192.0.2.1,udp:8003 timeout 30 comment \"" + c + "\" -exist\n");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:22", "192.0.2.1,udp:8000",
                "192.0.2.1,udp:8001", "192.0.2.1,udp:8002", "192.0.2.1,udp:8003");
        assertThat(fw.active(clock.instant())).containsExactly(d);
        assertThat(fw.elementCount()).isEqualTo(2);
        assertThat(events).containsExactly("opened CN=alice");
    }

    @Test
    void grantsArrivingDuringAWriteGoTogetherInOneIpsetRestore() throws Exception {
        GrantLedger fw = start(settings);
        tools.forget();
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        tools.beforeNextIpsetRestore = () -> {
            writing.countDown();
            await(release);
        };
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Future<GrantOutcome> first = pool.submit(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5,
                    "tcp/22")));
            assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
            List<Thread> waiting = new CopyOnWriteArrayList<>();
            Future<GrantOutcome> second = pool.submit(() -> {
                waiting.add(Thread.currentThread());
                return fw.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB_6, "tcp/22"));
            });
            Future<GrantOutcome> third = pool.submit(() -> {
                waiting.add(Thread.currentThread());
                return fw.open(grant("2001:db8::3", Duration.ofSeconds(30), CAROL_7, "tcp/22"));
            });
            // both have queued their decision and wait for the ledger's lock
            awaitBlockedInOpen(waiting, 2);
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
            assertThat(third.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        assertThat(tools.calls).containsExactly("ipset restore", "ipset restore");
        assertThat(tools.batches.get(1).lines().sorted().toList()).containsExactly(
                "add certknock4 192.0.2.2,tcp:22 timeout 30 comment \"" + comment(BOB_6) + "\" -exist",
                "add certknock6 2001:db8::3,tcp:22 timeout 30 comment \"" + comment(CAROL_7) + "\" -exist");
        assertThat(fw.active(clock.instant())).hasSize(3);
    }

    @Test
    void aBatchWithAGrantTheWriterRefusesIsWrittenOneGrantAtATime() throws Exception {
        GrantLedger fw = start(settings.withIpv6(false));
        tools.forget();
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        tools.beforeNextIpsetRestore = () -> {
            writing.countDown();
            await(release);
        };
        ExecutorService pool = Executors.newFixedThreadPool(3);
        Future<GrantOutcome> v4;
        Future<GrantOutcome> v6;
        try {
            Future<GrantOutcome> first = pool.submit(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5,
                    "tcp/22")));
            assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
            List<Thread> waiting = new CopyOnWriteArrayList<>();
            v6 = pool.submit(() -> {
                waiting.add(Thread.currentThread());
                return fw.open(grant("2001:db8::3", Duration.ofSeconds(30), CAROL_7, "tcp/22"));
            });
            v4 = pool.submit(() -> {
                waiting.add(Thread.currentThread());
                return fw.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB_6, "tcp/22"));
            });
            awaitBlockedInOpen(waiting, 2);
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
            assertThat(v4.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
            Future<GrantOutcome> refused = v6;
            assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(FirewallException.class)
                    .hasMessageContaining("IPv6 is disabled");
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        // the IPv6 grant is refused before anything runs: only the IPv4 grants reach ipset
        assertThat(tools.calls).containsExactly("ipset restore", "ipset restore");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:22", "192.0.2.2,tcp:22");
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactlyInAnyOrder(ALICE, BOB);
    }

    @Test
    void reopenIsTheSameAddWhichRefreshesTheEntry() throws Exception {
        GrantLedger fw = start(settings);
        tools.forget();
        fw.open(grant("2001:db8::7", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        clock.advance(Duration.ofSeconds(20));
        GrantDecision again = grant("2001:db8::7", Duration.ofSeconds(30), ALICE_5, "tcp/22");
        fw.open(again);
        assertThat(tools.batches).hasSize(2)
                .allMatch(b -> b.startsWith("add certknock6 2001:db8::7,tcp:22 timeout 30 "));
        assertThat(tools.saved("certknock6")).containsExactly(
                "add certknock6 2001:db8::7,tcp:22 timeout 30 comment \"" + comment(ALICE_5) + "\"");
        clock.advance(Duration.ofSeconds(15));
        assertThat(fw.active(clock.instant())).containsExactly(again);
        assertThat(tools.entries("certknock6")).hasSize(1);
        clock.advance(Duration.ofSeconds(15));
        assertThat(fw.active(clock.instant())).isEmpty();
        assertThat(tools.entries("certknock6")).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void anElementOfMorePortsThanMaxPortsPerGrantIsRefusedBeforeAnythingRuns() throws Exception {
        GrantLedger fw = start(settings);
        tools.forget();
        assertThatThrownBy(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22",
                "udp/1-1025"))).isInstanceOf(FirewallException.class).hasMessageContaining("1025 ports")
                .hasMessageContaining("1024");
        assertThat(tools.calls).isEmpty();
        assertThat(fw.elementCount()).isZero();
        assertThat(fw.active(clock.instant())).isEmpty();

        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "udp/1-1024"))).isEqualTo(
                GrantOutcome.OPENED);
        assertThat(tools.calls).containsExactly("ipset restore");
        assertThat(tools.entries("certknock4")).hasSize(1024);

        GrantLedger small = start(settings.withMaxPortsPerGrant(10));
        tools.forget();
        assertThatThrownBy(() -> small.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB_6, "tcp/1-11")))
                .hasMessageContaining("11 ports").hasMessageContaining("maxPortsPerGrant");
        assertThat(tools.calls).isEmpty();
    }

    @Test
    void aFullSetRefusesTheGrantAndWhatTheBatchAddedIsTakenBack() throws Exception {
        GrantLedger fw = start(settings.withMaxElements(3));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22-23"));
        tools.forget();
        assertThatThrownBy(() -> fw.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB_6, "tcp/22-23")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("Hash is full");
        // line 1 (192.0.2.2 port 22) went in before line 2 was refused: it is deleted again
        assertThat(tools.calls).containsExactly("ipset restore", "ipset restore");
        assertThat(tools.batches.get(1)).isEqualTo("""
                del certknock4 192.0.2.2,tcp:22 -exist
                del certknock4 192.0.2.2,tcp:23 -exist
                """);
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:22", "192.0.2.1,tcp:23");
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(ALICE);
        // another family has its own set
        fw.open(grant("2001:db8::2", Duration.ofSeconds(30), BOB_6, "tcp/22-23"));
        // entries the kernel expired make room
        clock.advance(Duration.ofSeconds(31));
        assertThat(fw.open(grant("192.0.2.2", Duration.ofSeconds(30), BOB_6, "tcp/22-23"))).isEqualTo(
                GrantOutcome.OPENED);
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.2,tcp:22", "192.0.2.2,tcp:23");
    }

    @Test
    void aBatchRefusedPartWayIsTakenBackExceptEntriesOthersHold() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        tools.forget();
        tools.failNextIpsetRestoreAtLine(3);
        assertThatThrownBy(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(30), BOB_6, "tcp/21-23")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("Error in line 3: failed by test");
        // lines 1 and 2 (ports 21 and 22) went in; 22 was alice's already: only 21 and 23 are taken back
        assertThat(tools.batches).hasSize(2);
        assertThat(tools.batches.get(1)).isEqualTo("""
                del certknock4 192.0.2.1,tcp:21 -exist
                del certknock4 192.0.2.1,tcp:23 -exist
                """);
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:22");
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(ALICE);
        assertThat(events).containsExactly("opened CN=alice");
        // nothing of bob's was recorded: a retry opens it whole
        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(30), BOB_6, "tcp/21-23"))).isEqualTo(
                GrantOutcome.OPENED);
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:21", "192.0.2.1,tcp:22",
                "192.0.2.1,tcp:23");
    }

    @Test
    void anExpiredDecisionIsRefusedWithoutRunningAnything() throws Exception {
        GrantLedger fw = start(settings);
        GrantDecision d = grant("192.0.2.1", Duration.ofSeconds(5), ALICE_5, "tcp/22");
        clock.advance(Duration.ofSeconds(5));
        tools.forget();
        assertThat(fw.open(d)).isInstanceOfSatisfying(GrantOutcome.Refused.class,
                r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.EXPIRED));
        assertThat(tools.calls).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void ipv4OnlySetsUpOneFamilyAndRefusesIpv6Grants() throws Exception {
        GrantLedger fw = start(settings.withIpv6(false));
        assertThat(tools.calls).noneMatch(c -> c.startsWith("ip6tables")).doesNotContain("ipset save certknock6");
        assertThat(tools.sets).containsOnlyKeys("certknock4");
        tools.forget();
        assertThatThrownBy(() -> fw.open(grant("2001:db8::1", Duration.ofSeconds(60), ALICE_5, "tcp/22")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("IPv6 is disabled");
        assertThat(tools.calls).isEmpty();
        assertThat(fw.elementCount()).isZero();
        assertThat(fw.elementCount(ALICE_5.leaf())).isZero();
    }

    // ---- two elements on one port -----------------------------------------------------------------------------

    @Test
    void twoElementsOnOnePortKeepTheEntryWithTheRemainingHoldersExpiryUntilBothAreGone() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/20-30"));
        assertThat(fw.elementCount()).isEqualTo(2);
        assertThat(tools.entries("certknock4")).hasSize(11);
        // bob's range outlasts alice's port: the shared entry carries bob's expiry and comment
        assertThat(tools.savedLine("certknock4", "192.0.2.1,tcp:22")).isEqualTo(
                "add certknock4 192.0.2.1,tcp:22 timeout 60 comment \"" + comment(BOB_6) + "\"");

        tools.forget();
        assertThat(fw.revoke(Set.of(BOB_6.leaf()))).isEqualTo(1);
        assertThat(tools.calls).containsExactly("ipset restore");
        // the entry stays for alice, with her expiry and comment again; bob's other ports go
        assertThat(tools.saved("certknock4")).containsExactly(
                "add certknock4 192.0.2.1,tcp:22 timeout 30 comment \"" + comment(ALICE_5) + "\"");
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(ALICE);

        assertThat(fw.revoke(Set.of(ALICE_5.leaf()))).isEqualTo(1);
        assertThat(tools.entries("certknock4")).isEmpty();
        assertThat(fw.elementCount()).isZero();
        assertThat(events).containsExactly("opened CN=alice", "opened CN=bob", "closed CN=bob revoked",
                "closed CN=alice revoked");
    }

    @Test
    void twoElementsOnOnePortTheLaterSingleKeepsItsPortWhenTheRangeGoes() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(90), ALICE_5, "tcp/22"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/20-30"));
        // the single port outlasts the range: the entry keeps alice's expiry and comment
        assertThat(tools.savedLine("certknock4", "192.0.2.1,tcp:22")).isEqualTo(
                "add certknock4 192.0.2.1,tcp:22 timeout 90 comment \"" + comment(ALICE_5) + "\"");
        clock.advance(Duration.ofSeconds(10));
        tools.forget();
        fw.revoke(Set.of(BOB_6.leaf()));
        // bob's other ten ports are deleted; alice's entry is written again with her own expiry and comment
        assertThat(tools.batches).hasSize(1);
        assertThat(tools.batches.get(0).lines().toList()).hasSize(11)
                .contains("add certknock4 192.0.2.1,tcp:22 timeout 80 comment \"" + comment(ALICE_5) + "\" -exist")
                .filteredOn(l -> !l.contains("tcp:22 ")).hasSize(10)
                .allMatch(l -> l.startsWith("del certknock4 192.0.2.1,tcp:"));
        assertThat(tools.saved("certknock4")).containsExactly(
                "add certknock4 192.0.2.1,tcp:22 timeout 80 comment \"" + comment(ALICE_5) + "\"");
    }

    @Test
    void twoElementsOnOnePortRevokedTogetherDeleteTheEntry() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/20-30"));
        fw.open(grant("192.0.2.9", Duration.ofSeconds(60), CAROL_7, "tcp/22"));
        tools.forget();
        assertThat(fw.revoke(Set.of(ALICE_5.leaf(), BOB_6.leaf()))).isEqualTo(2);
        assertThat(tools.calls).containsExactly("ipset restore");
        assertThat(tools.batches.get(0).lines().toList()).hasSize(11)
                .allMatch(l -> l.startsWith("del certknock4 192.0.2.1,tcp:"));
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.9,tcp:22");
    }

    @Test
    void twoElementsOnOnePortTheSharedEntryOutlivesTheShorterOneInTheKernel() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/20-30"));
        clock.advance(Duration.ofSeconds(31));
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(BOB);
        assertThat(tools.entries("certknock4")).hasSize(11).containsKey("192.0.2.1,tcp:22");
        clock.advance(Duration.ofSeconds(30));
        assertThat(fw.active(clock.instant())).isEmpty();
        assertThat(tools.entries("certknock4")).isEmpty();
    }

    // ---- revocation -------------------------------------------------------------------------------------------

    @Test
    void revocationDeletesOnlyTheRevokedCertificatesEntriesInOneBatch() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/8000-8003", "udp/53"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/8002"));
        fw.open(grant("2001:db8::9", Duration.ofSeconds(60), ALICE_5, "tcp/22"));
        tools.forget();
        assertThat(fw.revoke(Set.of(ALICE_5.leaf()))).isEqualTo(2);
        assertThat(tools.calls).containsExactly("ipset restore");
        // bob holds 8002 himself: it stays open, now with his comment
        assertThat(tools.batches.get(0).lines().sorted().toList()).containsExactly(
                "add certknock4 192.0.2.1,tcp:8002 timeout 60 comment \"" + comment(BOB_6) + "\" -exist",
                "del certknock4 192.0.2.1,tcp:8000 -exist", "del certknock4 192.0.2.1,tcp:8001 -exist",
                "del certknock4 192.0.2.1,tcp:8003 -exist", "del certknock4 192.0.2.1,udp:53 -exist",
                "del certknock6 2001:db8::9,tcp:22 -exist");
        assertThat(tools.saved("certknock4")).containsExactly(
                "add certknock4 192.0.2.1,tcp:8002 timeout 60 comment \"" + comment(BOB_6) + "\"");
        assertThat(tools.entries("certknock6")).isEmpty();
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(BOB);
        assertThat(events).containsSubsequence("closed CN=alice revoked", "closed CN=alice revoked");

        tools.forget();
        assertThat(fw.revoke(Set.of(ALICE_5.leaf()))).isZero();
        assertThat(fw.revoke(Set.of(TestHolders.ref(new X500Principal("CN=other CA"), BigInteger.valueOf(6)))))
                .isZero();
        assertThat(tools.calls).isEmpty();
        // a knock that passed the revocation check before the CRL landed opens nothing
        assertThat(fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/8000")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.REVOKED));
        assertThat(tools.calls).isEmpty();
    }

    @Test
    void revokingAnIntermediateClosesEveryGrantBelowIt() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/22"));
        fw.open(grant("192.0.2.2", Duration.ofSeconds(60), CAROL_7, "tcp/22", "udp/53"));
        fw.open(grant("2001:db8::4", Duration.ofSeconds(60), DAVE_8, "tcp/22"));
        assertThat(comment(CAROL_7)).isEqualTo("ck1 " + tag(CAROL_7) + " " + INTERMEDIATE_REF.tag());
        tools.forget();
        assertThat(fw.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(2);
        assertThat(tools.calls).containsExactly("ipset restore");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:22");
        assertThat(tools.entries("certknock6")).isEmpty();
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(ALICE);
        assertThat(fw.open(grant("192.0.2.2", Duration.ofSeconds(60), CAROL_7, "tcp/22")))
                .isInstanceOf(GrantOutcome.Refused.class);
    }

    @Test
    void aRevocationTheKernelRefusedIsRetriedAndNothingOfItOpensMeanwhile() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/22"));
        tools.failOnce("ipset restore", 2, "failed by test");
        assertThatThrownBy(() -> fw.revoke(Set.of(ALICE_5.leaf()))).isInstanceOf(FirewallException.class)
                .hasMessageContaining("exited with 2");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.1,tcp:22");
        assertThat(fw.open(grant("192.0.2.7", Duration.ofSeconds(60), ALICE_5, "tcp/22")))
                .isInstanceOf(GrantOutcome.Refused.class);
        // the housekeeping's next look closes it
        fw.active(clock.instant());
        assertThat(tools.entries("certknock4")).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "closed CN=alice revoked");
    }

    // ---- restart ----------------------------------------------------------------------------------------------

    @Test
    void afterARestartRevokingALeafOrAnIntermediateClosesTheEntriesReadBack() throws Exception {
        GrantLedger before = start(settings);
        before.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/22", "udp/8000-8001"));
        before.open(grant("2001:db8::1", Duration.ofSeconds(90), ALICE_5, "udp/53"));
        before.open(grant("192.0.2.2", Duration.ofSeconds(60), CAROL_7, "tcp/22"));
        before.open(grant("2001:db8::2", Duration.ofSeconds(60), DAVE_8, "tcp/2222"));
        before.open(grant("192.0.2.3", Duration.ofSeconds(60), BOB_6, "tcp/22"));
        before.close(); // the default: the entries stay until they expire
        assertThat(tools.entries("certknock4")).hasSize(5);
        tools.foreign("certknock4", "192.0.2.9,tcp:22", 50, "someone else's");
        tools.foreign("certknock4", "192.0.2.8,tcp:22", 50, null);
        clock.advance(Duration.ofSeconds(5));

        tools.forget();
        GrantLedger after = start(settings);
        assertThat(tools.calls).contains("ipset save certknock4", "ipset save certknock6");
        // elements from before are no decisions of this run, but they count
        assertThat(after.active(clock.instant())).isEmpty();
        assertThat(after.elementCount()).isEqualTo(9);

        tools.forget();
        // the leaf: three entries of one grant and one of another, one batch
        assertThat(after.revoke(Set.of(ALICE_5.leaf()))).isEqualTo(4);
        assertThat(tools.calls).containsExactly("ipset restore");
        assertThat(tools.batches.get(0).lines().sorted().toList()).containsExactly(
                "del certknock4 192.0.2.1,tcp:22 -exist", "del certknock4 192.0.2.1,udp:8000 -exist",
                "del certknock4 192.0.2.1,udp:8001 -exist", "del certknock6 2001:db8::1,udp:53 -exist");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.2,tcp:22", "192.0.2.3,tcp:22",
                "192.0.2.9,tcp:22", "192.0.2.8,tcp:22");

        tools.forget();
        // the intermediate: carol's and dave's, each named by the second tag of its comment
        assertThat(after.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(2);
        assertThat(tools.batches.get(0).lines().sorted().toList()).containsExactly(
                "del certknock4 192.0.2.2,tcp:22 -exist", "del certknock6 2001:db8::2,tcp:2222 -exist");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.3,tcp:22", "192.0.2.9,tcp:22",
                "192.0.2.8,tcp:22");
        assertThat(tools.entries("certknock6")).isEmpty();
        // bob's entry left from before expires by the clock: nothing to delete once it has
        clock.advance(Duration.ofSeconds(60));
        tools.forget();
        assertThat(after.revoke(Set.of(BOB_6.leaf()))).isZero();
        assertThat(tools.calls).isEmpty();
    }

    @Test
    void entriesOfIpsetSaveAreReadBackInItsOwnFormat() throws Exception {
        String alice = comment(ALICE_5);
        String carol = comment(CAROL_7);
        tools.load("""
                create certknock4 hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x1
                add certknock4 192.0.2.1,tcp:8001 timeout 29 comment "%s"
                add certknock4 192.0.2.1,tcp:8000 timeout 29 comment "%s"
                add certknock4 192.0.2.1,tcp:22 timeout 299 comment "%s"
                add certknock4 192.0.2.9,tcp:22 timeout 50 comment "someone else's"
                add certknock4 192.0.2.8,tcp:22 timeout 50
                create certknock6 hash:ip,port family inet6 hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x2
                add certknock6 2001:db8::1,udp:53 timeout 39 comment "%s"
                """.formatted(alice, alice, carol, alice));
        GrantLedger fw = start(settings);
        assertThat(fw.elementCount()).isEqualTo(6);
        tools.forget();
        assertThat(fw.revoke(Set.of(ALICE_5.leaf()))).isEqualTo(3);
        assertThat(tools.batches.get(0).lines().sorted().toList()).containsExactly(
                "del certknock4 192.0.2.1,tcp:8000 -exist", "del certknock4 192.0.2.1,tcp:8001 -exist",
                "del certknock6 2001:db8::1,udp:53 -exist");
        tools.forget();
        assertThat(fw.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(1);
        assertThat(tools.batches).containsExactly("del certknock4 192.0.2.1,tcp:22 -exist\n");
        assertThat(tools.entries("certknock4")).containsOnlyKeys("192.0.2.9,tcp:22", "192.0.2.8,tcp:22");
    }

    @Test
    void afterARestartAHolderOfThisRunKeepsThePortWhenTheHolderNamedInTheCommentIsRevoked() throws Exception {
        GrantLedger before = start(settings);
        before.open(grant("192.0.2.1", Duration.ofMinutes(2), CAROL_7, "tcp/20-30"));
        before.close();
        clock.advance(Duration.ofSeconds(10));
        GrantLedger after = start(settings);
        // alice knocks for one of those ports, for less time than carol's entry has left: nothing to write
        tools.forget();
        assertThat(after.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/22"))).isEqualTo(
                GrantOutcome.OPENED);
        assertThat(tools.calls).isEmpty();
        assertThat(tools.savedLine("certknock4", "192.0.2.1,tcp:22")).contains("timeout 110 comment \""
                + comment(CAROL_7) + "\"");

        assertThat(after.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(11);
        // port 22 stays for alice, with her expiry and comment; carol's other ten ports go
        assertThat(tools.saved("certknock4")).containsExactly(
                "add certknock4 192.0.2.1,tcp:22 timeout 60 comment \"" + comment(ALICE_5) + "\"");
        assertThat(after.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(ALICE);
        after.revoke(Set.of(ALICE_5.leaf()));
        assertThat(tools.entries("certknock4")).isEmpty();
    }

    // ---- known bugs (disabled until fixed; each asserts what should happen) ------------------------------------

    @Test
    void revokingTheLastLiveHolderOfAPortDeletesItEvenWhenAnExpiredElementCoveredIt() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        clock.advance(Duration.ofSeconds(31)); // alice's entry expired in the kernel, and in the ledger
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/20-30"));
        tools.forget();
        fw.revoke(Set.of(BOB_6.leaf()));
        assertThat(tools.batches.get(0)).doesNotContain("add ");
        assertThat(tools.entries("certknock4")).isEmpty();
    }

    @Test
    void aBatchRefusedPartWayTakesBackAnEntryWhoseEarlierElementExpired() throws Exception {
        GrantLedger fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        clock.advance(Duration.ofSeconds(31));
        tools.failNextIpsetRestoreAtLine(2);
        assertThatThrownBy(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB_6, "tcp/22-23")))
                .isInstanceOf(FirewallException.class);
        assertThat(fw.elementCount()).isZero();
        assertThat(tools.entries("certknock4")).isEmpty();
    }

    @Test
    void aCutOffListingFailsTheStartInsteadOfMissingEntries() {
        dev.certknock.server.process.ProgramRunner cut = (argv, stdin) -> {
            var r = tools.run(argv, stdin);
            return argv.contains("save") ? new dev.certknock.server.process.ProcessRunner.Result(r.argv(), r.exitCode(),
                    r.stdout(), r.stderr(), true) : r;
        };
        assertThatThrownBy(() -> new GrantLedger(new IptablesWriter(settings, cut, clock), GrantLedger.Settings.defaults(),
                clock, new dev.certknock.server.event.KnockEventListener() { }).start())
                .isInstanceOf(FirewallException.class).hasMessageContaining("could not all be read back");
    }

    @Test
    void theWritersRecordForgetsEntriesTheKernelExpired() throws Exception {
        GrantLedger fw = start(settings);
        for (int i = 1; i <= 100; i++) {
            fw.open(grant("192.0.2." + i, Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        }
        assertThat(writer.recordedEntries()).isEqualTo(100);
        clock.advance(Duration.ofSeconds(31));
        fw.open(grant("192.0.2.200", Duration.ofSeconds(30), BOB_6, "tcp/22"));
        assertThat(writer.recordedEntries()).as("only what the kernel still holds").isEqualTo(1);
    }

    @Test
    void aGrantAfterStopIsNotWritten() throws Exception {
        GrantLedger fw = start(settings, GrantLedger.Settings.defaults().withRemoveAllOnStop(true));
        fw.close();
        tools.forget();
        try {
            fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE_5, "tcp/22"));
        } catch (FirewallException expected) {
            // refusing with an exception is as good as a Refused outcome
        }
        assertThat(tools.calls).isEmpty();
        assertThat(tools.entries("certknock4")).isEmpty();
    }

    // ---- stop and uninstall -----------------------------------------------------------------------------------

    @Test
    void stopKeepsRulesAndEntriesUnlessRemoveAllOnStop() throws Exception {
        GrantLedger keep = start(settings);
        keep.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE_5, "tcp/22"));
        tools.forget();
        keep.close();
        assertThat(tools.calls).isEmpty();
        assertThat(tools.entries("certknock4")).hasSize(1);
        assertThat(events).containsExactly("opened CN=alice");

        GrantLedger flush = start(settings, GrantLedger.Settings.defaults().withRemoveAllOnStop(true));
        flush.open(grant("2001:db8::1", Duration.ofSeconds(60), BOB_6, "tcp/22"));
        tools.forget();
        flush.close();
        assertThat(tools.calls).containsExactly("ipset restore");
        assertThat(tools.batches).containsExactly("flush certknock4\nflush certknock6\n");
        assertThat(tools.entries("certknock4")).isEmpty();
        assertThat(tools.entries("certknock6")).isEmpty();
        assertThat(tools.jumps).containsEntry("iptables", 1).containsEntry("ip6tables", 1);
        assertThat(events).containsExactly("opened CN=alice", "opened CN=bob", "closed CN=bob stopped");
    }

    @Test
    void uninstallDeletesEveryJumpThenTheChainsThenTheSets() throws Exception {
        start(settings);
        tools.jumps.merge("iptables", 1, Integer::sum); // a second jump, say from an older release
        tools.sets.remove("certknock6");
        tools.forget();
        writer.uninstall();
        assertThat(tools.calls).containsExactly("iptables -w -C INPUT -j CERTKNOCK", "iptables -w -D INPUT -j CERTKNOCK",
                "iptables -w -C INPUT -j CERTKNOCK", "iptables -w -D INPUT -j CERTKNOCK",
                "iptables -w -C INPUT -j CERTKNOCK", "iptables-restore -w --noflush",
                "ip6tables -w -C INPUT -j CERTKNOCK", "ip6tables -w -D INPUT -j CERTKNOCK",
                "ip6tables -w -C INPUT -j CERTKNOCK", "ip6tables-restore -w --noflush", "ipset list -n certknock4",
                "ipset restore", "ipset list -n certknock6");
        assertThat(tools.batches).containsExactly("*filter\n:CERTKNOCK - [0:0]\n-X CERTKNOCK\nCOMMIT\n",
                "*filter\n:CERTKNOCK - [0:0]\n-X CERTKNOCK\nCOMMIT\n", "destroy certknock4\n");
        assertThat(tools.jumps).containsEntry("iptables", 0).containsEntry("ip6tables", 0);
        assertThat(tools.chains).isEmpty();
        assertThat(tools.sets).isEmpty();
        // nothing there: not an error
        writer.uninstall();
    }

    /** Waits until these threads have queued their decision in {@link GrantLedger#open} and wait for its lock. */
    private static void awaitBlockedInOpen(List<Thread> threads, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (threads.size() < count || !threads.stream().allMatch(IptablesWriterTest::blockedInOpen)) {
            assertThat(System.nanoTime()).as("threads waiting in GrantLedger.open").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static boolean blockedInOpen(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        return t.getState() == Thread.State.BLOCKED && stack.length > 0
                && stack[0].getClassName().equals(GrantLedger.class.getName()) && stack[0].getMethodName().equals("open");
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the write");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * ipset, iptables and ip6tables in memory, for what {@link IptablesWriter} runs. {@code ipset restore} applies
     * its lines in order and stops at the first it refuses (the lines before stay applied), with the real tool's
     * messages; entries carry a timeout and expire by the test's clock; {@code ipset save} answers in the real
     * format (remaining seconds rounded down, as the kernel reports them). {@code iptables-restore --noflush}
     * replaces the chain's rules or deletes the chain; {@code -C/-I/-D INPUT -j CERTKNOCK} count the jumps. Every
     * call is recorded (argv joined by spaces), and the standard input of every restore.
     */
    static final class FakeIpTools implements ProgramRunner {

        private static final Pattern ADD = Pattern.compile(
                "add (\\S+) ([0-9a-fA-F.:]+),(tcp|udp):([0-9]+)(?:-([0-9]+))? timeout ([0-9]+) comment \"([^\"]*)\"( -exist)?");
        private static final Pattern DEL = Pattern.compile(
                "del (\\S+) ([0-9a-fA-F.:]+),(tcp|udp):([0-9]+)(?:-([0-9]+))?( -exist)?");
        private static final Pattern CREATE = Pattern.compile(
                "create (\\S+) hash:ip,port family (inet6?) maxelem ([0-9]+) timeout 0 comment( -exist)?");
        private static final Pattern SAVED_CREATE = Pattern.compile(
                "create (\\S+) hash:ip,port family (inet6?) hashsize [0-9]+ maxelem ([0-9]+) timeout 0 comment.*");
        private static final Pattern SAVED_ADD = Pattern.compile(
                "add (\\S+) (\\S+) timeout ([0-9]+)(?: comment \"([^\"]*)\")?");

        /** One entry: until when the kernel holds it, and its comment (null for none). */
        record Held(Instant until, String comment) {
        }

        static final class FakeSet {
            final String family;
            final int maxelem;
            final Map<String, Held> entries = new LinkedHashMap<>();

            FakeSet(String family, int maxelem) {
                this.family = family;
                this.maxelem = maxelem;
            }
        }

        /** A refusal of one restore line: the tool's message. */
        private static final class Refusal extends Exception {
            private static final long serialVersionUID = 1L;

            Refusal(String message) {
                super(message);
            }
        }

        private final Clock clock;
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<String> batches = new CopyOnWriteArrayList<>();
        final Map<String, FakeSet> sets = new TreeMap<>();
        /** Jumps from INPUT to CERTKNOCK, per tool ({@code iptables}, {@code ip6tables}). */
        final Map<String, Integer> jumps = new HashMap<>();
        /** The CERTKNOCK chain's rules ({@code -A} lines), per tool; absent when the chain does not exist. */
        final Map<String, List<String>> chains = new HashMap<>();
        private final Map<String, Integer> failOnceCode = new HashMap<>();
        private final Map<String, Integer> failAlwaysCode = new HashMap<>();
        private final Map<String, String> failMessage = new HashMap<>();
        private int failRestoreAtLine;
        volatile boolean notInstalled;
        /** Runs (once) when the next {@code ipset restore} starts, before it applies anything. */
        volatile Runnable beforeNextIpsetRestore;

        FakeIpTools(Clock clock) {
            this.clock = clock;
        }

        /** Forgets the calls and batches recorded so far. */
        void forget() {
            calls.clear();
            batches.clear();
        }

        /** The next run of this command line exits with this code and message, changing nothing. */
        void failOnce(String commandLine, int code, String message) {
            failOnceCode.put(commandLine, code);
            failMessage.put(commandLine, message);
        }

        void failAlways(String commandLine, int code, String message) {
            failAlwaysCode.put(commandLine, code);
            failMessage.put(commandLine, message);
        }

        /** The next {@code ipset restore} applies the lines before this one, then refuses it. */
        void failNextIpsetRestoreAtLine(int line) {
            failRestoreAtLine = line;
        }

        /** An entry that certknock did not write (another tool's, or an older format). */
        synchronized void foreign(String set, String element, long seconds, String comment) {
            sets.get(set).entries.put(element, new Held(clock.instant().plusSeconds(seconds), comment));
        }

        /** Loads sets from {@code ipset save} text, as a kernel left by an earlier run holds them. */
        synchronized void load(String saved) {
            for (String line : saved.lines().toList()) {
                Matcher c = SAVED_CREATE.matcher(line);
                Matcher a = SAVED_ADD.matcher(line);
                if (c.matches()) {
                    sets.put(c.group(1), new FakeSet(c.group(2), Integer.parseInt(c.group(3))));
                } else if (a.matches()) {
                    sets.get(a.group(1)).entries.put(a.group(2),
                            new Held(clock.instant().plusSeconds(Long.parseLong(a.group(3))), a.group(4)));
                } else {
                    throw new IllegalArgumentException("not ipset save output: " + line);
                }
            }
        }

        /** The live entries of a set, by element ({@code 192.0.2.1,tcp:22}). */
        synchronized Map<String, Held> entries(String set) {
            FakeSet s = sets.get(set);
            if (s == null) {
                throw new AssertionError("no set " + set);
            }
            purge(s);
            return new LinkedHashMap<>(s.entries);
        }

        /** The {@code add} lines of {@code ipset save SET}. */
        synchronized List<String> saved(String set) {
            return save(set).lines().filter(l -> l.startsWith("add ")).toList();
        }

        synchronized String savedLine(String set, String element) {
            return saved(set).stream().filter(l -> l.startsWith("add " + set + " " + element + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError(element + " is not in " + set));
        }

        @Override
        public synchronized ProcessRunner.Result run(List<String> argv, String stdin) throws ProcessRunner.RunException {
            String line = String.join(" ", argv);
            if (notInstalled) {
                throw new ProcessRunner.RunException("could not start '" + line + "': Cannot run program \""
                        + argv.get(0) + "\": error=2, No such file or directory", null);
            }
            calls.add(line);
            if (stdin != null) {
                batches.add(stdin);
            }
            if (line.equals("ipset restore") && beforeNextIpsetRestore != null) {
                Runnable hook = beforeNextIpsetRestore;
                beforeNextIpsetRestore = null;
                hook.run();
            }
            Integer once = failOnceCode.remove(line);
            Integer code = once != null ? once : failAlwaysCode.get(line);
            if (code != null) {
                return result(argv, code, "", failMessage.get(line) + "\n");
            }
            String tool = argv.get(0);
            List<String> args = argv.subList(1, argv.size());
            if (tool.equals("ipset")) {
                return ipset(argv, args, stdin);
            }
            if (tool.equals("iptables") || tool.equals("ip6tables")) {
                return tables(argv, tool, args);
            }
            if ((tool.equals("iptables-restore") || tool.equals("ip6tables-restore"))
                    && args.equals(List.of("-w", "--noflush"))) {
                return tablesRestore(argv, tool.replace("-restore", ""), stdin);
            }
            throw new AssertionError("the fake does not know '" + line + "'");
        }

        private ProcessRunner.Result ipset(List<String> argv, List<String> args, String stdin) {
            if (args.equals(List.of("restore"))) {
                return ipsetRestore(argv, stdin);
            }
            if (args.size() == 2 && args.get(0).equals("save")) {
                if (!sets.containsKey(args.get(1))) {
                    return result(argv, 1, "", "ipset v7.17: The set with the given name does not exist\n");
                }
                return result(argv, 0, save(args.get(1)), "");
            }
            if (args.size() == 3 && args.get(0).equals("list") && args.get(1).equals("-n")) {
                return sets.containsKey(args.get(2)) ? result(argv, 0, args.get(2) + "\n", "")
                        : result(argv, 1, "", "ipset v7.17: The set with the given name does not exist\n");
            }
            throw new AssertionError("the fake does not know 'ipset " + String.join(" ", args) + "'");
        }

        private ProcessRunner.Result ipsetRestore(List<String> argv, String stdin) {
            int failAt = failRestoreAtLine;
            failRestoreAtLine = 0;
            List<String> lines = stdin == null ? List.of() : stdin.lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                int number = i + 1;
                try {
                    if (number == failAt) {
                        throw new Refusal("failed by test");
                    }
                    restoreLine(lines.get(i));
                } catch (Refusal r) {
                    return result(argv, 1, "", "ipset v7.17: Error in line " + number + ": " + r.getMessage() + "\n");
                }
            }
            return result(argv, 0, "", "");
        }

        private void restoreLine(String line) throws Refusal {
            if (line.isBlank()) {
                return;
            }
            Matcher create = CREATE.matcher(line);
            Matcher add = ADD.matcher(line);
            Matcher del = DEL.matcher(line);
            if (create.matches()) {
                Matcher m = create;
                FakeSet existing = sets.get(m.group(1));
                int maxelem = Integer.parseInt(m.group(3));
                if (existing == null) {
                    sets.put(m.group(1), new FakeSet(m.group(2), maxelem));
                } else if (m.group(4) == null || existing.maxelem != maxelem || !existing.family.equals(m.group(2))) {
                    throw new Refusal("Set cannot be created: set with the same name already exists");
                }
            } else if (add.matches()) {
                Matcher m = add;
                FakeSet s = set(m.group(1));
                String address = address(s, m.group(2));
                boolean exist = m.group(8) != null;
                Held held = new Held(clock.instant().plusSeconds(Long.parseLong(m.group(6))), m.group(7));
                for (String element : elements(address, m.group(3), m.group(4), m.group(5))) {
                    purge(s);
                    if (s.entries.containsKey(element)) {
                        if (!exist) {
                            throw new Refusal("Element cannot be added to the set: it's already added");
                        }
                    } else if (s.entries.size() >= s.maxelem) {
                        throw new Refusal("Hash is full, cannot add more elements");
                    }
                    s.entries.put(element, held);
                }
            } else if (del.matches()) {
                Matcher m = del;
                FakeSet s = set(m.group(1));
                String address = address(s, m.group(2));
                purge(s);
                for (String element : elements(address, m.group(3), m.group(4), m.group(5))) {
                    if (s.entries.remove(element) == null && m.group(6) == null) {
                        throw new Refusal("Element cannot be deleted from the set: it's not added");
                    }
                }
            } else if (line.startsWith("flush ")) {
                set(line.substring(6)).entries.clear();
            } else if (line.startsWith("destroy ")) {
                String name = line.substring(8);
                set(name);
                for (List<String> rules : chains.values()) {
                    if (rules.stream().anyMatch(r -> r.contains("--match-set " + name + " "))) {
                        throw new Refusal("Set cannot be destroyed: it is in use by a kernel component");
                    }
                }
                sets.remove(name);
            } else {
                throw new Refusal("Syntax error: the fake does not know '" + line + "'");
            }
        }

        private FakeSet set(String name) throws Refusal {
            FakeSet s = sets.get(name);
            if (s == null) {
                throw new Refusal("The set with the given name does not exist");
            }
            return s;
        }

        /** The address as ipset prints it; refused when it is not of the set's family. */
        private static String address(FakeSet s, String text) throws Refusal {
            InetAddress a;
            try {
                a = InetAddress.getByName(text);
            } catch (UnknownHostException e) {
                throw new Refusal("Syntax error: cannot parse " + text);
            }
            if ((a instanceof Inet4Address) != s.family.equals("inet")) {
                throw new Refusal("Syntax error: cannot parse " + text + ": resolving to an address of the wrong family");
            }
            return AddressText.format(a);
        }

        private static List<String> elements(String address, String protocol, String first, String last) {
            int from = Integer.parseInt(first);
            int to = last == null ? from : Integer.parseInt(last);
            List<String> out = new ArrayList<>();
            for (int p = from; p <= to; p++) {
                out.add(address + "," + protocol + ":" + p);
            }
            return out;
        }

        private void purge(FakeSet s) {
            Instant now = clock.instant();
            s.entries.values().removeIf(h -> !h.until().isAfter(now));
        }

        private String save(String name) {
            FakeSet s = sets.get(name);
            purge(s);
            Instant now = clock.instant();
            StringBuilder sb = new StringBuilder();
            sb.append("create ").append(name).append(" hash:ip,port family ").append(s.family)
                    .append(" hashsize 1024 maxelem ").append(s.maxelem)
                    .append(" timeout 0 comment bucketsize 12 initval 0x5f3a1b2c\n");
            // the kernel lists its hash in no particular order: newest first here
            List<Map.Entry<String, Held>> all = new ArrayList<>(s.entries.entrySet());
            for (int i = all.size() - 1; i >= 0; i--) {
                Map.Entry<String, Held> e = all.get(i);
                long left = Duration.between(now, e.getValue().until()).toSeconds();
                sb.append("add ").append(name).append(' ').append(e.getKey()).append(" timeout ").append(left);
                if (e.getValue().comment() != null) {
                    sb.append(" comment \"").append(e.getValue().comment()).append('"');
                }
                sb.append('\n');
            }
            return sb.toString();
        }

        private ProcessRunner.Result tables(List<String> argv, String tool, List<String> args) {
            List<String> jump = List.of("INPUT", "-j", IptablesRenderer.CHAIN);
            int n = jumps.getOrDefault(tool, 0);
            if (args.size() == 5 && args.get(0).equals("-w") && args.get(1).equals("-C")
                    && args.subList(2, 5).equals(jump)) {
                if (!chains.containsKey(tool)) {
                    return result(argv, 2, "", tool + " v1.8.9 (nf_tables): Chain 'CERTKNOCK' does not exist\n");
                }
                return n > 0 ? result(argv, 0, "", "")
                        : result(argv, 1, "", tool + ": Bad rule (does a matching rule exist in that chain?).\n");
            }
            if (args.equals(List.of("-w", "-I", "INPUT", "1", "-j", IptablesRenderer.CHAIN))) {
                if (!chains.containsKey(tool)) {
                    return result(argv, 2, "", tool + " v1.8.9 (nf_tables): Chain 'CERTKNOCK' does not exist\n");
                }
                jumps.put(tool, n + 1);
                return result(argv, 0, "", "");
            }
            if (args.size() == 5 && args.get(0).equals("-w") && args.get(1).equals("-D")
                    && args.subList(2, 5).equals(jump)) {
                if (n == 0) {
                    return result(argv, 1, "", tool + ": Bad rule (does a matching rule exist in that chain?).\n");
                }
                jumps.put(tool, n - 1);
                return result(argv, 0, "", "");
            }
            throw new AssertionError("the fake does not know '" + String.join(" ", argv) + "'");
        }

        private ProcessRunner.Result tablesRestore(List<String> argv, String tool, String stdin) {
            List<String> lines = stdin.lines().toList();
            if (!lines.get(0).equals("*filter") || !lines.get(lines.size() - 1).equals("COMMIT")
                    || !lines.get(1).equals(":CERTKNOCK - [0:0]")) {
                return result(argv, 1, "", tool + "-restore: line 1 failed\n");
            }
            if (lines.contains("-X CERTKNOCK")) {
                if (jumps.getOrDefault(tool, 0) > 0) {
                    return result(argv, 4, "", tool + "-restore v1.8.9 (nf_tables): CHAIN_DEL failed (Device or "
                            + "resource busy): chain CERTKNOCK\n");
                }
                chains.remove(tool);
                return result(argv, 0, "", "");
            }
            List<String> rules = lines.stream().filter(l -> l.startsWith("-A CERTKNOCK ")).toList();
            for (String r : rules) {
                Matcher m = Pattern.compile("--match-set (\\S+) ").matcher(r);
                if (m.find() && !sets.containsKey(m.group(1))) {
                    return result(argv, 2, "", tool + "-restore v1.8.9 (nf_tables): Set " + m.group(1)
                            + " doesn't exist.\n");
                }
            }
            chains.put(tool, rules); // declaring the chain in a --noflush batch replaces its rules
            return result(argv, 0, "", "");
        }

        private static ProcessRunner.Result result(List<String> argv, int code, String out, String err) {
            return new ProcessRunner.Result(List.copyOf(argv), code, out, err, false);
        }
    }
}
