package dev.certknock.server.firewall.nftables;

import dev.certknock.server.grant.TestHolders;
import dev.certknock.protocol.grant.AddressText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantRevokedException;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.testing.time.MutableClock;
import java.math.BigInteger;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The backend's bookkeeping, against a fake nft that records scripts and serves a listing. */
class NftablesFirewallTest {

    static final X500Principal CA = new X500Principal("CN=Test CA");
    static final X500Principal OTHER_CA = new X500Principal("CN=Other CA");
    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    /** Records every script; lists whatever {@link #kernel} holds; fails when told to. */
    static class FakeNft implements NftExecutor {
        final List<String> scripts = new ArrayList<>();
        final List<String> checked = new ArrayList<>();
        int queries;
        final List<NftListing.Listed> kernel = new ArrayList<>();
        boolean fail;

        @Override
        public void apply(String script) throws FirewallException {
            if (fail) {
                throw new FirewallException("nft failed (exit status 1): Error: Could not process rule", null);
            }
            scripts.add(script);
        }

        @Override
        public void check(String script) {
            checked.add(script);
        }

        @Override
        public String query(List<String> arguments) throws FirewallException {
            queries++;
            if (fail) {
                throw new FirewallException("nft failed", null);
            }
            String elems = kernel.stream().map(l -> {
                String port = l.element().ports().isSinglePort() ? Integer.toString(l.element().ports().firstPort())
                        : "{\"range\": [" + l.element().ports().firstPort() + ", " + l.element().ports().lastPort() + "]}";
                return "{\"elem\": {\"val\": {\"concat\": [\"" + AddressText.format(l.element().address()) + "\", \""
                        + l.element().ports().protocol().label() + "\", " + port + "]}, \"timeout\": "
                        + l.timeout().toSeconds() + ", \"expires\": " + l.expires().toSeconds()
                        + (l.comment() == null ? "" : ", \"comment\": \"" + l.comment() + "\"") + "}}";
            }).collect(Collectors.joining(", "));
            return "{\"nftables\": [{\"set\": {\"family\": \"inet\", \"name\": \"allow4\", \"table\": \"certknock\", \"elem\": ["
                    + elems + "]}}, {\"set\": {\"family\": \"inet\", \"name\": \"allow6\", \"table\": \"certknock\", \"elem\": ["
                    + elems + "]}}]}";
        }

        String last() {
            return scripts.get(scripts.size() - 1);
        }
    }

    /** Collects listener calls as text. */
    static final class Events implements KnockEventListener {
        final List<String> seen = new ArrayList<>();

        @Override
        public void grantOpened(GrantDecision d) {
            seen.add("opened " + d.serial());
        }

        @Override
        public void grantClosed(GrantDecision d, String why) {
            seen.add("closed " + d.serial() + " " + why);
        }
    }

    FakeNft nft;
    MutableClock clock;
    Events events;
    NftablesFirewall firewall;

    static GrantDecision decision(String address, Instant openedAt, long seconds, long serial, X500Principal issuer,
            String... grants) throws Exception {
        List<PortGrant> g = new ArrayList<>();
        for (String s : grants) {
            g.add(PortGrant.parse(s));
        }
        return TestHolders.decision(InetAddress.getByName(address), g, Duration.ofSeconds(seconds), openedAt,
                new X500Principal("CN=client " + serial), issuer, BigInteger.valueOf(serial));
    }

    NftablesFirewall firewall(boolean flushOnStop) {
        return new NftablesFirewall(new NftSettings("certknock", 62201, NftRendererTest.PROTECT, false, flushOnStop,
                List.of()), nft, clock, events);
    }

    @BeforeEach
    void setUp() throws Exception {
        nft = new FakeNft();
        clock = MutableClock.at(T0);
        events = new Events();
        firewall = firewall(false);
        firewall.start();
    }

    @Test
    void startAppliesTheSetup() {
        assertThat(nft.scripts).containsExactly(new NftRenderer("certknock").setup(new NftSettings("certknock", 62201,
                NftRendererTest.PROTECT, false, false, List.of())));
    }

    @Test
    void startWarmsTheGrantPathWithADryRunOnly() {
        assertThat(nft.checked).containsExactly("add element inet certknock allow4_port { 0.0.0.0 . tcp . 9 timeout 1s expires 1s }\n"
                + "add element inet certknock allow6_port { :: . tcp . 9 timeout 1s expires 1s }\n");
        assertThat(nft.scripts).hasSize(1); // the setup; the warm-up applied nothing
    }

    @Test
    void grantsArrivingDuringACommitGoIntoOneBatch() throws Exception {
        CountDownLatch firstApplying = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FakeNft slow = new FakeNft() {
            @Override
            public void apply(String script) throws FirewallException {
                super.apply(script);
                if (scripts.size() == 2) { // the first grant, after the setup
                    firstApplying.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        NftablesFirewall fw = new NftablesFirewall(new NftSettings("certknock", 62201, NftRendererTest.PROTECT, false,
                false, List.of()), slow, clock, events);
        fw.start();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<?> first = pool.submit(() -> {
                fw.open(decision("198.51.100.1", T0, 60, 1, CA, "tcp/22"));
                return null;
            });
            assertThat(firstApplying.await(10, TimeUnit.SECONDS)).isTrue();
            List<Future<?>> rest = new ArrayList<>();
            for (int i = 2; i <= 4; i++) {
                int n = i;
                rest.add(pool.submit(() -> {
                    fw.open(decision("198.51.100." + n, T0, 60, n, CA, "tcp/22"));
                    return null;
                }));
            }
            // The three wait for the lock the first one holds while its batch commits.
            while (fw.queuedForTest() < 3) {
                Thread.onSpinWait();
            }
            release.countDown();
            first.get(10, TimeUnit.SECONDS);
            for (Future<?> f : rest) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(slow.scripts).hasSize(3); // setup, the first grant, then the other three together
        assertThat(slow.last()).startsWith("add element inet certknock allow4_port { ")
                .contains("198.51.100.2 . tcp . 22").contains("198.51.100.3 . tcp . 22").contains("198.51.100.4 . tcp . 22");
        assertThat(events.seen).containsExactlyInAnyOrder("opened 1", "opened 2", "opened 3", "opened 4");
    }

    @Test
    void aCrlRevokingAThousandSerialsIsOneListingAndOneBatch() throws Exception {
        firewall.open(decision("198.51.100.1", T0, 60, 1, CA, "tcp/22"));
        firewall.open(decision("198.51.100.2", T0, 60, 2, CA, "tcp/22"));
        firewall.open(decision("198.51.100.3", T0, 60, 3, CA, "tcp/22"));
        firewall.open(decision("198.51.100.4", T0, 60, 4, OTHER_CA, "tcp/22")); // same serial as below, other CA
        // opened before a restart by serial 50: only the kernel's comment names it
        nft.kernel.add(new NftListing.Listed(NftRendererTest.element("198.51.100.50", "tcp/22"), Duration.ofSeconds(60),
                Duration.ofSeconds(30), NftablesFirewall.tag(CA, BigInteger.valueOf(50))));
        Set<BigInteger> revoked = new HashSet<>();
        for (int serial = 100; serial < 1100; serial++) {
            revoked.add(BigInteger.valueOf(serial));
        }
        revoked.addAll(List.of(BigInteger.ONE, BigInteger.TWO, BigInteger.valueOf(4), BigInteger.valueOf(50)));
        int queriesBefore = nft.queries;
        int appliesBefore = nft.scripts.size();

        assertThat(firewall.revoke(TestHolders.refs(CA, revoked))).isEqualTo(3); // serials 1 and 2, and the orphan 50

        assertThat(nft.queries - queriesBefore).as("one listing").isEqualTo(1);
        assertThat(nft.scripts.size() - appliesBefore).as("one batch").isEqualTo(1);
        assertThat(nft.last()).contains("delete element inet certknock allow4_port { 198.51.100.1 . tcp . 22, "
                + "198.51.100.2 . tcp . 22, 198.51.100.50 . tcp . 22 }").doesNotContain("198.51.100.3")
                .doesNotContain("198.51.100.4");
        assertThat(events.seen).contains("closed 1 revoked", "closed 2 revoked").doesNotContain("closed 3 revoked",
                "closed 4 revoked");
    }

    @Test
    void aKnockThatPassedTheRevocationCheckBeforeItsCrlLandedOpensNothing() throws Exception {
        GrantDecision inFlight = decision("198.51.100.7", T0, 60, 7, CA, "tcp/22"); // checked against the old CRL
        firewall.open(decision("198.51.100.8", T0, 60, 8, CA, "tcp/22"));
        assertThat(firewall.revoke(TestHolders.refs(CA, Set.of(BigInteger.valueOf(7), BigInteger.valueOf(8))))).isEqualTo(1);
        int applied = nft.scripts.size();

        assertThatThrownBy(() -> firewall.open(inFlight)).isInstanceOf(GrantRevokedException.class)
                .hasMessageContaining("serial 7 was revoked");
        assertThat(nft.scripts).hasSize(applied); // nothing written
        assertThat(events.seen).doesNotContain("opened 7");
        // another CA's certificate with the same serial is not affected
        firewall.open(decision("198.51.100.9", T0, 60, 7, OTHER_CA, "tcp/22"));
        assertThat(nft.last()).contains("198.51.100.9 . tcp . 22");
        // the memory of a revocation ends: long after any knock in flight could arrive
        clock.advance(NftablesFirewall.REVOKED_MEMORY.plusSeconds(1));
        firewall.open(decision("198.51.100.7", clock.instant(), 60, 7, CA, "tcp/22"));
        assertThat(nft.last()).contains("198.51.100.7 . tcp . 22");
    }

    @Test
    void aRefusedBatchIsRetriedOneByOneSoOnlyTheBadGrantFails() throws Exception {
        FakeNft picky = new FakeNft() {
            @Override
            public void apply(String script) throws FirewallException {
                if (script.contains("198.51.100.66")) {
                    throw new FirewallException("nft failed (exit status 1): Error: refused", null);
                }
                super.apply(script);
            }
        };
        NftablesFirewall fw = new NftablesFirewall(new NftSettings("certknock", 62201, NftRendererTest.PROTECT, false,
                false, List.of()), picky, clock, events);
        fw.start();
        fw.queueForTest(decision("198.51.100.5", T0, 60, 5, CA, "tcp/22"));
        assertThatThrownBy(() -> fw.open(decision("198.51.100.66", T0, 60, 66, CA, "tcp/22")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("refused");
        assertThat(picky.scripts).hasSize(2); // the setup, then 198.51.100.5 alone after the batch was refused
        assertThat(picky.last()).contains("198.51.100.5 . tcp . 22").doesNotContain("198.51.100.66");
        assertThat(events.seen).containsExactly("opened 5");
    }

    @Test
    void openAddsEveryGrantInOneBatchWithTimeoutExpiresAndTag() throws Exception {
        clock.advance(Duration.ofMillis(500));
        firewall.open(decision("198.51.100.7", T0, 60, 0x1f, CA, "tcp/22", "udp/8000-8100"));
        String tag = NftablesFirewall.tag(CA, BigInteger.valueOf(0x1f));
        // One batch: the range goes to the interval set, the single port to the hash set.
        assertThat(nft.last()).isEqualTo("add element inet certknock allow4 { "
                + "198.51.100.7 . udp . 8000-8100 timeout 60s expires 59500ms comment \"" + tag + "\" }\n"
                + "add element inet certknock allow4_port { "
                + "198.51.100.7 . tcp . 22 timeout 60s expires 59500ms comment \"" + tag + "\" }\n");
        assertThat(tag).matches("certknock s=1f i=[0-9a-f]{16}");
        assertThat(events.seen).containsExactly("opened 31");
    }

    @Test
    void reopeningRefreshesAndDoesNotDuplicate() throws Exception {
        firewall.open(decision("2001:db8::7", T0, 60, 1, CA, "tcp/22"));
        clock.advance(Duration.ofSeconds(30));
        GrantDecision again = decision("2001:db8::7", clock.instant(), 60, 1, CA, "tcp/22");
        firewall.open(again);
        assertThat(nft.last()).startsWith("add element inet certknock allow6_port { 2001:db8::7 . tcp . 22 timeout 60s expires 60s ");
        nft.kernel.add(new NftListing.Listed(new NftElement(again.address(), PortGrant.parse("tcp/22")),
                Duration.ofSeconds(60), Duration.ofSeconds(60), null));
        assertThat(firewall.active(clock.instant())).containsExactly(again);
    }

    @Test
    void activeReportsOnlyWhatTheKernelStillHolds() throws Exception {
        GrantDecision a = decision("198.51.100.7", T0, 60, 1, CA, "tcp/22");
        GrantDecision b = decision("198.51.100.8", T0, 60, 2, CA, "tcp/22");
        firewall.open(a);
        firewall.open(b);
        nft.kernel.add(new NftListing.Listed(new NftElement(a.address(), PortGrant.parse("tcp/22")), Duration.ofSeconds(60),
                Duration.ofSeconds(60), null));
        assertThat(firewall.active(clock.instant())).containsExactly(a);
        nft.fail = true; // nft unavailable: the index answers
        assertThat(firewall.active(clock.instant())).containsExactly(a, b);
    }

    @Test
    void expiryIsReportedOnceAndForgotten() throws Exception {
        firewall.open(decision("198.51.100.7", T0, 10, 1, CA, "tcp/22", "tcp/443"));
        clock.advance(Duration.ofSeconds(10));
        assertThat(firewall.active(clock.instant())).isEmpty();
        assertThat(events.seen).containsExactly("opened 1", "closed 1 expired");
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isZero();
    }

    @Test
    void anAlreadyExpiredDecisionOpensNothing() throws Exception {
        clock.advance(Duration.ofSeconds(61));
        int before = nft.scripts.size();
        firewall.open(decision("198.51.100.7", T0, 60, 1, CA, "tcp/22"));
        assertThat(nft.scripts).hasSize(before);
        assertThat(events.seen).isEmpty();
    }

    @Test
    void closeCertificateDeletesExactlyItsElements() throws Exception {
        firewall.open(decision("198.51.100.7", T0, 60, 1, CA, "tcp/22", "udp/8000-8100"));
        firewall.open(decision("2001:db8::7", T0, 60, 1, CA, "tcp/22"));
        firewall.open(decision("198.51.100.8", T0, 60, 2, CA, "tcp/22"));
        firewall.open(decision("198.51.100.9", T0, 60, 1, OTHER_CA, "tcp/22")); // same serial, other issuer
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isEqualTo(2);
        assertThat(nft.last()).isEqualTo(new NftRenderer("certknock").delete(List.of(
                NftRendererTest.element("198.51.100.7", "tcp/22"), NftRendererTest.element("198.51.100.7", "udp/8000-8100"),
                NftRendererTest.element("2001:db8::7", "tcp/22"))));
        assertThat(events.seen).contains("closed 1 revoked").doesNotContain("closed 2 revoked");
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isZero();
    }

    @Test
    void anElementSharedWithAnotherCertificateStaysOpenWithThatCertificatesExpiry() throws Exception {
        firewall.open(decision("198.51.100.7", T0, 300, 1, CA, "tcp/22"));
        firewall.open(decision("198.51.100.7", T0, 60, 2, CA, "tcp/22"));
        // shared: the later expiry (300 s, certificate 1) stays in force
        assertThat(nft.last()).contains("timeout 300s expires 300s comment \"" + NftablesFirewall.tag(CA, BigInteger.ONE));
        clock.advance(Duration.ofSeconds(10));
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isEqualTo(1);
        NftRenderer r = new NftRenderer("certknock");
        NftElement e = NftRendererTest.element("198.51.100.7", "tcp/22");
        assertThat(nft.last()).isEqualTo(r.delete(List.of(e)) + r.add(List.of(new NftEntry(e, Duration.ofSeconds(60),
                Duration.ofSeconds(50), NftablesFirewall.tag(CA, BigInteger.TWO)))));
    }

    @Test
    void afterARestartARevocationFindsItsElementsByComment() throws Exception {
        NftElement mine = NftRendererTest.element("198.51.100.7", "tcp/22");
        NftElement notMine = NftRendererTest.element("198.51.100.8", "tcp/22");
        nft.kernel.add(new NftListing.Listed(mine, Duration.ofSeconds(60), Duration.ofSeconds(40),
                NftablesFirewall.tag(CA, BigInteger.valueOf(7))));
        nft.kernel.add(new NftListing.Listed(notMine, Duration.ofSeconds(60), Duration.ofSeconds(40),
                NftablesFirewall.tag(OTHER_CA, BigInteger.valueOf(7))));
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.valueOf(7))))).isEqualTo(1);
        assertThat(nft.last()).isEqualTo(new NftRenderer("certknock").delete(List.of(mine)));
    }

    @Test
    void aFailedBatchChangesNothing() throws Exception {
        nft.fail = true;
        assertThatThrownBy(() -> firewall.open(decision("198.51.100.7", T0, 60, 1, CA, "tcp/22")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("Could not process rule");
        nft.fail = false;
        assertThat(firewall.active(clock.instant())).isEmpty();
        assertThat(events.seen).isEmpty();
        firewall.open(decision("198.51.100.7", T0, 60, 1, CA, "tcp/22"));
        nft.fail = true;
        assertThatThrownBy(() -> firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isInstanceOf(FirewallException.class);
        nft.fail = false;
        assertThat(firewall.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isEqualTo(1); // still known, closed now
    }

    @Test
    void closeKeepsGrantsByDefault() throws Exception {
        firewall.open(decision("198.51.100.7", T0, 60, 1, CA, "tcp/22"));
        int before = nft.scripts.size();
        firewall.close();
        assertThat(nft.scripts).hasSize(before);
        assertThat(events.seen).containsExactly("opened 1");
    }

    @Test
    void closeFlushesWhenConfigured() throws Exception {
        NftablesFirewall flushing = firewall(true);
        flushing.start();
        flushing.open(decision("198.51.100.7", T0, 60, 1, CA, "tcp/22"));
        flushing.close();
        assertThat(nft.last()).isEqualTo(new NftRenderer("certknock").flushSets());
        assertThat(events.seen).containsExactly("opened 1", "closed 1 stopped");
        int before = nft.scripts.size();
        flushing.close(); // idempotent
        assertThat(nft.scripts).hasSize(before);
    }
}
