package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;
import dev.certknock.server.grant.TestHolders;
import dev.certknock.server.netns.TestNetwork;
import dev.certknock.testing.time.MutableClock;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link GrantLedger} over the nftables writer against the real kernel, with {@code nft} run inside a network
 * namespace each test creates (the settings' command prefix {@code ip netns exec NS}), deleted afterwards even on
 * failure, so the host's ruleset is never touched. Needs root, {@code nft} and {@code ip}; skipped otherwise. What
 * the kernel holds is read back with {@code nft} itself.
 */
class NftablesFirewallIT {

    static final X500Principal ROOT = new X500Principal("CN=IT Root");
    static final X500Principal INTERMEDIATE = new X500Principal("CN=IT Intermediate");
    /** The intermediate's own certificate, as the root's CRL names it. */
    static final CertRef INTERMEDIATE_REF = TestHolders.ref(ROOT, BigInteger.valueOf(0x1000));
    static final List<PortGrant> PROTECT = List.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/8000-8100"),
            PortGrant.parse("udp/51820"));

    String ns;
    List<String> prefix;
    /** nft in the namespace, for the test's own commands and checks. */
    NftExecutor nft;
    /** Reads the grant sets back, independently of any ledger. */
    NftWriter kernel;
    NftWriterTest.Events events;
    final List<GrantLedger> ledgers = new ArrayList<>();

    @BeforeAll
    static void requireRootNftAndIp() {
        TestNetwork.requireRoot("ip", "nft");
    }

    @BeforeEach
    void createNamespace() throws Exception {
        String name = "ck-nft-" + HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(4));
        assumeTrue(TestNetwork.exitCode(List.of("ip", "netns", "add", name)) == 0,
                "skipped: cannot create a network namespace here (ip netns add failed)");
        ns = name;
        TestNetwork.run("ip", "-n", ns, "link", "set", "lo", "up");
        prefix = List.of("ip", "netns", "exec", ns);
        nft = new ProcessNftExecutor(prefix);
        kernel = new NftWriter(settings(false), nft);
        events = new NftWriterTest.Events();
    }

    @AfterEach
    void deleteNamespace() {
        try {
            ledgers.forEach(GrantLedger::close);
        } finally {
            if (ns != null) {
                TestNetwork.exitCode(List.of("ip", "netns", "del", ns));
            }
        }
    }

    NftSettings settings(boolean reject) {
        return new NftSettings("certknock", 62201, PROTECT, reject, prefix);
    }

    /** A ledger over a writer that runs nft in the namespace (through the command prefix), started. */
    GrantLedger ledger(GrantLedger.Settings limits, boolean reject, Clock clock) throws FirewallException {
        GrantLedger l = new GrantLedger(new NftWriter(settings(reject)), limits, clock, events);
        ledgers.add(l);
        return l.start();
    }

    GrantLedger ledger() throws FirewallException {
        return ledger(GrantLedger.Settings.defaults(), false, Clock.systemUTC());
    }

    static Holder holder(long serial) {
        return TestHolders.holder(new X500Principal("CN=client " + serial), ROOT, BigInteger.valueOf(serial));
    }

    static Holder underIntermediate(long serial) {
        return new Holder(new X500Principal("CN=client " + serial), INTERMEDIATE,
                List.of(TestHolders.ref(INTERMEDIATE, BigInteger.valueOf(serial)), INTERMEDIATE_REF));
    }

    static GrantDecision decision(String address, Instant openedAt, long seconds, Holder holder, String... grants)
            throws Exception {
        List<PortGrant> g = new ArrayList<>();
        for (String s : grants) {
            g.add(PortGrant.parse(s));
        }
        return new GrantDecision(InetAddress.getByName(address), g, Duration.ofSeconds(seconds), openedAt, holder);
    }

    static String comment(Holder h) {
        return "ck1 " + String.join(" ", h.tags());
    }

    List<String> elements() throws FirewallException {
        return kernel.kernelElements().stream().map(l -> l.element().text()).sorted().toList();
    }

    Optional<NftListing.Listed> listed(String text) throws FirewallException {
        return kernel.kernelElements().stream().filter(l -> l.element().text().equals(text)).findFirst();
    }

    static void assertRefused(GrantOutcome outcome, GrantOutcome.Refusal reason) {
        assertThat(outcome).isInstanceOf(GrantOutcome.Refused.class);
        assertThat(((GrantOutcome.Refused) outcome).reason()).isEqualTo(reason);
    }

    // --- the table

    @Test
    void setupIsIdempotentAndKeepsGrants() throws Exception {
        GrantLedger before = ledger();
        String first = nftOut("list", "ruleset");
        before.open(decision("198.51.100.7", Instant.now(), 60, holder(1), "tcp/22"));
        before.close();
        GrantLedger after = ledger(); // a restarted server
        new NftWriter(settings(false), nft).setUp(); // and the set-up once more
        String again = nftOut("list", "ruleset");
        assertThat(count(again, "table inet certknock")).isEqualTo(1);
        assertThat(count(again, "\n\ttable ")).isZero();
        assertThat(chain(again)).isEqualTo(chain(first));
        assertThat(count(chain(again), " drop\n")).isEqualTo(4); // knock port + 3 protected ranges, not doubled
        assertThat(elements()).containsExactly("198.51.100.7 . tcp . 22");
        assertThat(after.elementCount()).isEqualTo(1);
    }

    @Test
    void setupReplacesAChainWithAnotherPriority() throws Exception {
        nft.apply("table inet certknock {\n\tchain input {\n\t\ttype filter hook input priority filter + 5; policy accept;\n"
                + "\t\ttcp dport 1 drop\n\t}\n}\n");
        ledger();
        String ruleset = nftOut("list", "ruleset");
        assertThat(ruleset).contains("priority filter - 10;").doesNotContain("dport 1 drop");
    }

    @Test
    void renderedScriptsLoadInDropAndRejectMode() throws Exception {
        ledger(GrantLedger.Settings.defaults(), true, Clock.systemUTC());
        assertThat(nftOut("list", "chain", "inet", "certknock", "input")).contains("tcp dport 22 reject with tcp reset",
                "udp dport 51820 reject");
        ledger();
        assertThat(nftOut("list", "chain", "inet", "certknock", "input")).contains("tcp dport 22 drop")
                .doesNotContain("reject");
        for (String golden : List.of("setup-reject.nft", "setup-drop.nft", "add.nft", "delete.nft", "flush.nft")) {
            nft.check(NftRendererTest.golden(golden));
        }
    }

    @Test
    void theWarmUpIsADryRunNftAcceptsAndAppliesNothing() throws Exception {
        List<String> checked = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        NftExecutor recording = new NftExecutor() {
            @Override
            public void apply(String script) throws FirewallException {
                nft.apply(script);
            }

            @Override
            public void check(String script) throws FirewallException {
                checked.add(script);
                try {
                    nft.check(script);
                } catch (FirewallException e) {
                    refused.add(e.getMessage());
                    throw e;
                }
            }

            @Override
            public String query(List<String> arguments) throws FirewallException {
                return nft.query(arguments);
            }
        };
        GrantLedger l = new GrantLedger(new NftWriter(settings(false), recording), GrantLedger.Settings.defaults(),
                Clock.systemUTC(), events);
        ledgers.add(l);
        l.start();
        assertThat(checked).hasSize(1);
        assertThat(checked.get(0)).contains("allow4 {", "allow6 {", "allow4_port {", "allow6_port {");
        assertThat(refused).as("nft accepts the probe").isEmpty();
        assertThat(elements()).isEmpty();
    }

    @Test
    void aRehearsalLedgerHasNftCheckItsGrantsAndTheKernelNeverSeesThem() throws Exception {
        List<String> checked = new ArrayList<>();
        List<String> applied = new ArrayList<>();
        NftExecutor recording = new NftExecutor() {
            @Override
            public void apply(String script) throws FirewallException {
                applied.add(script);
                nft.apply(script);
            }

            @Override
            public void check(String script) throws FirewallException {
                checked.add(script);
                nft.check(script); // a refusal by nft fails the rehearsal's open below
            }

            @Override
            public String query(List<String> arguments) throws FirewallException {
                return nft.query(arguments);
            }
        };
        GrantLedger fw = new GrantLedger(new NftWriter(settings(false), recording), GrantLedger.Settings.defaults(),
                Clock.systemUTC(), events);
        ledgers.add(fw);
        fw.start();
        GrantDecision real = decision("198.51.100.7", Instant.now(), 60, holder(1), "tcp/22");
        fw.open(real);
        int appliedBefore = applied.size();
        int checkedBefore = checked.size();
        List<String> heard = new ArrayList<>();
        try (GrantLedger rehearsal = fw.rehearsal(new KnockEventListener() {
            @Override
            public void grantOpened(GrantDecision d) {
                heard.add(dev.certknock.protocol.grant.AddressText.format(d.address()));
            }
        })) {
            assertThat(rehearsal.open(decision("192.0.2.1", Instant.now(), 60, holder(2), "tcp/22", "tcp/8000-8100")))
                    .isInstanceOf(GrantOutcome.Opened.class);
            assertThat(rehearsal.open(decision("2001:db8::1", Instant.now(), 60, holder(3), "tcp/22")))
                    .isInstanceOf(GrantOutcome.Opened.class);
            assertThat(heard).containsExactly("192.0.2.1", "2001:db8::1");
            assertThat(rehearsal.active(Instant.now())).hasSize(2);
        }
        assertThat(checked.subList(checkedBefore, checked.size())).hasSize(2)
                .anySatisfy(script -> assertThat(script).contains("192.0.2.1", "8000-8100"))
                .anySatisfy(script -> assertThat(script).contains("2001:db8::1"));
        assertThat(applied).hasSize(appliedBefore);
        assertThat(elements()).containsExactly("198.51.100.7 . tcp . 22");
        assertThat(fw.active(Instant.now())).containsExactly(real);
    }

    // --- open

    @Test
    void openAddsElementsAndReopenRefreshesWithoutDuplicating() throws Exception {
        GrantLedger fw = ledger();
        Instant now = Instant.now();
        fw.open(decision("198.51.100.7", now.minusSeconds(50), 60, holder(1), "tcp/22", "tcp/8000-8100"));
        assertThat(elements()).containsExactly("198.51.100.7 . tcp . 22", "198.51.100.7 . tcp . 8000-8100");
        assertThat(listed("198.51.100.7 . tcp . 22").orElseThrow().expires()).isLessThanOrEqualTo(Duration.ofSeconds(10));
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).contains("comment \"" + comment(holder(1)) + "\"");
        assertThat(listed("198.51.100.7 . tcp . 22").orElseThrow().comment()).isEqualTo(comment(holder(1)));

        GrantDecision again = decision("198.51.100.7", Instant.now(), 60, holder(1), "tcp/22", "tcp/8000-8100");
        fw.open(again);
        assertThat(elements()).containsExactly("198.51.100.7 . tcp . 22", "198.51.100.7 . tcp . 8000-8100");
        assertThat(listed("198.51.100.7 . tcp . 22").orElseThrow().expires()).isGreaterThanOrEqualTo(Duration.ofSeconds(55));
        assertThat(fw.active(Instant.now())).containsExactly(again);
    }

    @Test
    void theKernelExpiresAnElementByItself() throws Exception {
        GrantLedger fw = ledger();
        long start = System.nanoTime();
        fw.open(decision("198.51.100.7", Instant.now(), 2, holder(1), "tcp/22"));
        assertThat(elements()).containsExactly("198.51.100.7 . tcp . 22");
        fw.close(); // the server stops (keeping grants): from here on only the kernel acts
        long deadline = start + TimeUnit.SECONDS.toNanos(6);
        while (!elements().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(elements()).as("gone within 6 s").isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    void ipv6ElementsOpenAndClose() throws Exception {
        GrantLedger fw = ledger();
        fw.open(decision("2001:db8:0:0:0:0:0:7", Instant.now(), 60, holder(5), "tcp/22", "udp/8000-8100"));
        assertThat(nftOut("list", "set", "inet", "certknock", "allow6_port")).contains("2001:db8::7 . tcp . 22");
        assertThat(nftOut("list", "set", "inet", "certknock", "allow6")).contains("2001:db8::7 . udp . 8000-8100");
        assertThat(elements()).containsExactly("2001:db8::7 . tcp . 22", "2001:db8::7 . udp . 8000-8100");
        assertThat(fw.revoke(Set.of(holder(5).leaf()))).isEqualTo(1);
        assertThat(elements()).isEmpty();
    }

    // --- revocation

    @Test
    void revokeRemovesExactlyItsElementsEvenWhenOneAlreadyExpired() throws Exception {
        MutableClock frozen = MutableClock.atSystemTime(); // the ledger never sees time pass
        GrantLedger fw = ledger(GrantLedger.Settings.defaults(), false, frozen);
        fw.open(decision("198.51.100.7", frozen.instant(), 1, holder(1), "udp/51820"));
        fw.open(decision("198.51.100.7", frozen.instant(), 60, holder(1), "tcp/22"));
        fw.open(decision("2001:db8::7", frozen.instant(), 60, holder(1), "tcp/8000-8100"));
        fw.open(decision("198.51.100.8", frozen.instant(), 60, holder(2), "tcp/22"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (listed("198.51.100.7 . udp . 51820").isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(listed("198.51.100.7 . udp . 51820")).as("expired in the kernel").isEmpty();
        assertThat(fw.revoke(Set.of(holder(1).leaf()))).as("its three decisions").isEqualTo(3);
        assertThat(elements()).containsExactly("198.51.100.8 . tcp . 22");
        assertThat(fw.revoke(Set.of(holder(1).leaf()))).isZero();
    }

    @Test
    void revokingAnIntermediateClosesEveryGrantBelowItAndLeavesTheOthers() throws Exception {
        GrantLedger fw = ledger();
        Holder first = underIntermediate(1);
        Holder second = underIntermediate(2);
        Holder direct = holder(3);
        Instant now = Instant.now();
        fw.open(decision("198.51.100.1", now, 60, first, "tcp/22"));
        fw.open(decision("2001:db8::2", now, 60, second, "tcp/8000-8010"));
        fw.open(decision("198.51.100.3", now, 60, direct, "tcp/22"));
        // one element shared: held longest by a certificate below the intermediate
        fw.open(decision("198.51.100.9", now, 300, first, "tcp/22"));
        fw.open(decision("198.51.100.9", now, 60, direct, "tcp/22"));
        assertThat(listed("198.51.100.9 . tcp . 22").orElseThrow().comment()).isEqualTo(comment(first));
        assertThat(listed("198.51.100.9 . tcp . 22").orElseThrow().expires()).isGreaterThan(Duration.ofSeconds(250));

        assertThat(fw.revoke(Set.of(INTERMEDIATE_REF))).as("two decisions of the first, one of the second").isEqualTo(3);

        assertThat(elements()).containsExactly("198.51.100.3 . tcp . 22", "198.51.100.9 . tcp . 22");
        // the shared element stays, now with the remaining holder's expiry and comment
        NftListing.Listed shared = listed("198.51.100.9 . tcp . 22").orElseThrow();
        assertThat(shared.comment()).isEqualTo(comment(direct));
        assertThat(shared.expires()).isLessThanOrEqualTo(Duration.ofSeconds(60)).isGreaterThan(Duration.ofSeconds(50));
        assertThat(events.seen()).contains("closed 1 revoked", "closed 2 revoked").doesNotContain("closed 3 revoked");
        assertRefused(fw.open(decision("198.51.100.1", Instant.now(), 60, first, "tcp/22")),
                GrantOutcome.Refusal.REVOKED);
        assertThat(elements()).hasSize(2);
    }

    @Test
    void afterARestartARevocationOfALeafOrOfAnIntermediateFindsTheElementsInTheKernel() throws Exception {
        Holder direct = holder(7);
        Holder below = underIntermediate(8);
        Holder other = holder(9);
        GrantLedger before = ledger();
        Instant now = Instant.now();
        before.open(decision("198.51.100.7", now, 120, direct, "tcp/22", "udp/8000-8100"));
        before.open(decision("198.51.100.8", now, 120, below, "tcp/22"));
        before.open(decision("2001:db8::8", now, 120, below, "tcp/8000-8010"));
        before.open(decision("198.51.100.9", now, 120, other, "tcp/22"));
        before.close(); // stopped or killed without flushing: the grants stay in the kernel
        assertThat(elements()).hasSize(5);
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4_port"))
                .contains("comment \"ck1 " + below.leaf().tag() + " " + INTERMEDIATE_REF.tag() + "\"");

        GrantLedger after = ledger(); // a new server, over the same table
        assertThat(after.elementCount()).as("rebuilt from the kernel").isEqualTo(5);

        assertThat(after.revoke(Set.of(direct.leaf()))).as("its two elements").isEqualTo(2);
        assertThat(elements()).containsExactly("198.51.100.8 . tcp . 22", "198.51.100.9 . tcp . 22",
                "2001:db8::8 . tcp . 8000-8010");
        assertThat(nftOut("-j", "list", "table", "inet", "certknock")).doesNotContain("198.51.100.7")
                .contains("198.51.100.8", "2001:db8::8");

        assertThat(after.revoke(Set.of(INTERMEDIATE_REF))).as("the two elements below it").isEqualTo(2);
        assertThat(elements()).containsExactly("198.51.100.9 . tcp . 22");
        assertThat(nftOut("-j", "list", "table", "inet", "certknock")).doesNotContain("198.51.100.8")
                .doesNotContain("2001:db8::8");
        assertThat(after.elementCount()).isEqualTo(1);

        // and the revoked certificates open nothing more in this run
        assertRefused(after.open(decision("198.51.100.7", Instant.now(), 60, direct, "tcp/22")),
                GrantOutcome.Refusal.REVOKED);
        assertRefused(after.open(decision("198.51.100.8", Instant.now(), 60, below, "tcp/22")),
                GrantOutcome.Refusal.REVOKED);
        assertThat(elements()).containsExactly("198.51.100.9 . tcp . 22");
    }

    @Test
    void singlePortsGoToTheHashSetAndOnesLeftInTheIntervalSetByAnEarlierVersionAreStillRevoked() throws Exception {
        // The table as the earlier layout left it: single ports in the interval set allow4, no hash sets.
        nft.apply("table inet certknock {\n\tset allow4 {\n\t\ttype ipv4_addr . inet_proto . inet_service\n"
                + "\t\tflags interval, timeout\n\t}\n}\n"
                + "add element inet certknock allow4 { 198.51.100.7 . tcp . 22 timeout 60s expires 60s comment \""
                + comment(holder(7)) + "\" }\n");
        GrantLedger fw = ledger(); // the upgrade: hash sets added, the old element kept
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).contains("198.51.100.7 . tcp . 22");
        assertThat(fw.elementCount()).isEqualTo(1);
        fw.open(decision("198.51.100.8", Instant.now(), 60, holder(8), "tcp/22"));
        fw.open(decision("198.51.100.8", Instant.now(), 60, holder(8), "tcp/8000-8010"));
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4_port")).contains("198.51.100.8 . tcp . 22")
                .doesNotContain("8000-8010");
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).contains("198.51.100.8 . tcp . 8000-8010");
        assertThat(elements()).containsExactlyInAnyOrder("198.51.100.7 . tcp . 22", "198.51.100.8 . tcp . 22",
                "198.51.100.8 . tcp . 8000-8010");

        assertThat(fw.revoke(Set.of(holder(7).leaf()))).isEqualTo(1);
        assertThat(elements()).containsExactlyInAnyOrder("198.51.100.8 . tcp . 22", "198.51.100.8 . tcp . 8000-8010");
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).doesNotContain("198.51.100.7");
        assertThat(fw.revoke(Set.of(holder(8).leaf()))).as("its two grants").isEqualTo(2);
        assertThat(elements()).isEmpty();
    }

    // --- limits

    @Test
    void grantsPastTheLimitsAreRefusedAndWriteNothing() throws Exception {
        GrantLedger fw = ledger(new GrantLedger.Settings(3, 2, false), false, Clock.systemUTC());
        Holder a = holder(1);
        Instant now = Instant.now();
        assertThat(fw.open(decision("198.51.100.7", now.minusSeconds(30), 60, a, "tcp/22", "tcp/8000-8010")))
                .isEqualTo(GrantOutcome.OPENED);
        List<String> held = List.of("198.51.100.7 . tcp . 22", "198.51.100.7 . tcp . 8000-8010");
        assertThat(elements()).isEqualTo(held);

        // past the per-certificate limit: refused whole, even the part the certificate already holds
        assertRefused(fw.open(decision("198.51.100.7", Instant.now(), 60, a, "udp/51820")),
                GrantOutcome.Refusal.CERTIFICATE_LIMIT);
        assertRefused(fw.open(decision("198.51.100.7", Instant.now(), 60, a, "tcp/22", "udp/51820")),
                GrantOutcome.Refusal.CERTIFICATE_LIMIT);
        assertThat(elements()).as("nothing written").isEqualTo(held);
        assertThat(listed("198.51.100.7 . tcp . 22").orElseThrow().expires()).as("not extended")
                .isLessThanOrEqualTo(Duration.ofSeconds(31));

        // another certificate still opens, up to the total
        assertThat(fw.open(decision("198.51.100.8", Instant.now(), 60, holder(2), "tcp/22"))).isEqualTo(GrantOutcome.OPENED);
        assertThat(elements()).containsExactly("198.51.100.7 . tcp . 22", "198.51.100.7 . tcp . 8000-8010",
                "198.51.100.8 . tcp . 22");

        // past the total: refused, nothing written
        assertRefused(fw.open(decision("198.51.100.9", Instant.now(), 60, holder(3), "tcp/22")),
                GrantOutcome.Refusal.TOTAL_LIMIT);
        assertThat(elements()).hasSize(3).doesNotContain("198.51.100.9 . tcp . 22");

        // a repeated knock for elements already held is not refused, and extends them
        assertThat(fw.open(decision("198.51.100.7", Instant.now(), 60, a, "tcp/22", "tcp/8000-8010")))
                .isEqualTo(GrantOutcome.OPENED);
        assertThat(listed("198.51.100.7 . tcp . 22").orElseThrow().expires()).isGreaterThanOrEqualTo(Duration.ofSeconds(55));
        assertThat(elements()).hasSize(3);
        assertThat(fw.elementCount(a.leaf())).isEqualTo(2);
    }

    // --- stop, and nft's own refusal

    @Test
    void removeAllOnStopClosesEverythingAndKeepsTheRules() throws Exception {
        GrantLedger fw = ledger(GrantLedger.Settings.defaults().withRemoveAllOnStop(true), false, Clock.systemUTC());
        fw.open(decision("198.51.100.7", Instant.now(), 60, holder(1), "tcp/22"));
        fw.open(decision("2001:db8::7", Instant.now(), 60, holder(1), "tcp/8000-8010"));
        assertThat(elements()).hasSize(2);
        fw.close();
        assertThat(elements()).isEmpty();
        assertThat(nftOut("list", "chain", "inet", "certknock", "input")).contains("tcp dport 22 drop");
    }

    @Test
    void aBadBatchIsRefusedWholeWithNftsMessage() throws Exception {
        ledger();
        try {
            nft.apply("add element inet certknock allow4 { 198.51.100.7 . tcp . 22 timeout 60s expires 60s }\n"
                    + "delete element inet certknock allow4 { 198.51.100.99 . tcp . 22 }\n");
            throw new AssertionError("the batch should have failed");
        } catch (FirewallException e) {
            assertThat(e.getMessage()).contains("exit status 1", "198.51.100.99");
        }
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).doesNotContain("198.51.100.7");
    }

    // --- helpers

    String nftOut(String... args) throws FirewallException {
        return nft.query(List.of(args));
    }

    static String chain(String ruleset) {
        return ruleset.substring(ruleset.indexOf("chain input"));
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
