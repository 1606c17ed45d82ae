package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;
import dev.certknock.server.grant.TestHolders;
import dev.certknock.testing.time.MutableClock;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.math.BigInteger;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What nft is told and what it is asked, through the {@link GrantLedger} over an {@link NftWriter} and a fake nft
 * that records every script and serves a listing. The ledger's own rules (limits, holds) have their contract suite;
 * here they appear only as far as they decide what reaches nft. The same against the real kernel:
 * {@link NftablesFirewallIT}.
 */
class NftWriterTest {

    static final X500Principal CA = new X500Principal("CN=Test CA");
    static final X500Principal OTHER_CA = new X500Principal("CN=Other CA");
    static final X500Principal INTERMEDIATE = new X500Principal("CN=Test Intermediate");
    /** The intermediate's own certificate, as the root's CRL names it. */
    static final CertRef INTERMEDIATE_REF = TestHolders.ref(CA, BigInteger.valueOf(0x1000));
    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    static final NftSettings SETTINGS = new NftSettings("certknock", 62201, NftRendererTest.PROTECT, false,
            List.of());
    static final NftRenderer RENDERER = new NftRenderer("certknock");

    /**
     * Records every script applied and checked and every query; lists what {@link #kernel} holds, each element in
     * the set it belongs to; refuses a script that contains {@link #refuse}, or everything while {@link #fail}.
     */
    static class FakeNft implements NftExecutor {
        final List<String> scripts = new ArrayList<>();
        final List<String> checked = new ArrayList<>();
        final List<List<String>> queries = new ArrayList<>();
        final List<NftListing.Listed> kernel = new ArrayList<>();
        volatile boolean fail;
        volatile String refuse;
        /** When set, the apply that brings {@link #scripts} to this size waits for {@link #release}. */
        volatile int holdAt;
        final CountDownLatch holding = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        String listingOverride;

        @Override
        public void apply(String script) throws FirewallException {
            if (fail) {
                throw new FirewallException("nft failed (exit status 1): Error: Could not process rule", null);
            }
            if (refuse != null && script.contains(refuse)) {
                throw new FirewallException("nft failed (exit status 1): Error: refused " + refuse, null);
            }
            int size;
            synchronized (scripts) {
                scripts.add(script);
                size = scripts.size();
            }
            if (size == holdAt) {
                holding.countDown();
                try {
                    if (!release.await(10, TimeUnit.SECONDS)) {
                        throw new FirewallException("the test never released the held batch", null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FirewallException("interrupted", e);
                }
            }
        }

        @Override
        public void check(String script) {
            checked.add(script);
        }

        @Override
        public String query(List<String> arguments) throws FirewallException {
            queries.add(List.copyOf(arguments));
            if (fail) {
                throw new FirewallException("nft failed", null);
            }
            if (listingOverride != null) {
                return listingOverride;
            }
            List<String> sets = new ArrayList<>();
            for (String set : NftElement.SETS) {
                String elems = kernel.stream().filter(l -> l.set().equals(set)).map(FakeNft::json)
                        .collect(Collectors.joining(", "));
                sets.add("{\"set\": {\"family\": \"inet\", \"name\": \"" + set + "\", \"table\": \"certknock\", "
                        + "\"type\": [\"ipv4_addr\", \"inet_proto\", \"inet_service\"], \"elem\": [" + elems + "]}}");
            }
            return "{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}}, {\"table\": {\"family\": \"inet\", "
                    + "\"name\": \"certknock\"}}, " + String.join(", ", sets) + "]}";
        }

        static String json(NftListing.Listed l) {
            PortGrant p = l.element().ports();
            String port = p.isSinglePort() ? Integer.toString(p.firstPort())
                    : "{\"range\": [" + p.firstPort() + ", " + p.lastPort() + "]}";
            return "{\"elem\": {\"val\": {\"concat\": [\"" + AddressText.format(l.element().address()) + "\", \""
                    + p.protocol().label() + "\", " + port + "]}, \"timeout\": " + l.timeout().toSeconds()
                    + ", \"expires\": " + l.expires().toSeconds()
                    + (l.comment() == null ? "" : ", \"comment\": \"" + l.comment() + "\"") + "}}";
        }

        List<String> scripts() {
            synchronized (scripts) {
                return List.copyOf(scripts);
            }
        }

        String last() {
            List<String> all = scripts();
            return all.get(all.size() - 1);
        }
    }

    /** Collects listener calls as text. */
    static final class Events implements KnockEventListener {
        final List<String> seen = new ArrayList<>();

        @Override
        public synchronized void grantOpened(GrantDecision d) {
            seen.add("opened " + d.serial());
        }

        @Override
        public synchronized void grantClosed(GrantDecision d, CloseReason why) {
            seen.add("closed " + d.serial() + " " + why.label());
        }

        synchronized List<String> seen() {
            return List.copyOf(seen);
        }
    }

    FakeNft nft;
    MutableClock clock;
    Events events;

    @BeforeEach
    void setUp() {
        nft = new FakeNft();
        clock = MutableClock.at(T0);
        events = new Events();
    }

    GrantLedger start(FakeNft executor, GrantLedger.Settings limits) throws FirewallException {
        return new GrantLedger(new NftWriter(SETTINGS, executor), limits, clock, events).start();
    }

    GrantLedger start() throws FirewallException {
        return start(nft, GrantLedger.Settings.defaults());
    }

    /** A certificate issued by the anchor {@code issuer} directly. */
    static Holder holder(long serial, X500Principal issuer) {
        return TestHolders.holder(new X500Principal("CN=client " + serial), issuer, BigInteger.valueOf(serial));
    }

    static Holder holder(long serial) {
        return holder(serial, CA);
    }

    /** A certificate issued by {@link #INTERMEDIATE}, whose own certificate {@link #INTERMEDIATE_REF} the CA issued. */
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

    static NftListing.Listed listed(String address, String ports, long expiresSeconds, String comment) throws Exception {
        NftElement e = NftRendererTest.element(address, ports);
        return new NftListing.Listed(e, Duration.ofSeconds(60), Duration.ofSeconds(expiresSeconds), comment, e.set());
    }

    /** As an earlier version left a single port: in its family's interval set. */
    static NftListing.Listed listedInIntervalSet(String address, String port, long expiresSeconds, String comment)
            throws Exception {
        NftElement e = NftRendererTest.element(address, port);
        return new NftListing.Listed(e, Duration.ofSeconds(60), Duration.ofSeconds(expiresSeconds), comment,
                e.address() instanceof java.net.Inet4Address ? NftElement.SET4 : NftElement.SET6);
    }

    /**
     * A script with the elements of each line sorted and the lines sorted: for batches whose order follows the
     * ledger's hash order. {@link #assertDeletesAreSafe} checks what this loses.
     */
    static List<String> canonical(String script) {
        List<String> lines = new ArrayList<>();
        for (String line : script.lines().toList()) {
            int open = line.indexOf("{ ");
            int close = line.lastIndexOf(" }");
            if (open < 0 || close < open) {
                lines.add(line);
                continue;
            }
            String[] elems = line.substring(open + 2, close).split(", ");
            Arrays.sort(elems);
            lines.add(line.substring(0, open + 2) + String.join(", ", elems) + " }");
        }
        lines.sort(null);
        return lines;
    }

    /**
     * Every {@code delete element} line directly follows an {@code add element} line of the same set and elements
     * with {@code timeout 1s} (so an element the kernel already expired cannot fail the batch), and every removal
     * comes before every real addition.
     */
    static void assertDeletesAreSafe(String script) {
        String[] lines = script.lines().toArray(String[]::new);
        boolean addsBegun = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            boolean trick = line.startsWith("add element") && line.contains(" timeout 1s")
                    && i + 1 < lines.length && lines[i + 1].startsWith("delete element");
            if (line.startsWith("delete element")) {
                assertThat(addsBegun).as("a removal after an addition in %s", script).isFalse();
                assertThat(i).as("delete without its add in %s", script).isPositive();
                String expectedAdd = line.replaceFirst("^delete", "add").replace(" }", " timeout 1s }")
                        .replace(", ", " timeout 1s, ");
                assertThat(lines[i - 1]).isEqualTo(expectedAdd);
            } else if (line.startsWith("add element") && !trick) {
                addsBegun = true;
            }
        }
    }

    // --- start

    @Test
    void startAppliesTheSetupThenListsTheTableOnce() throws Exception {
        start();
        assertThat(nft.scripts()).containsExactly(RENDERER.setup(SETTINGS));
        assertThat(nft.queries).containsExactly(List.of("-j", "list", "table", "inet", "certknock"));
    }

    @Test
    void startWarmsSinglePortsAndRangesOfBothFamiliesWithADryRunOnly() throws Exception {
        start();
        assertThat(nft.checked).containsExactly(
                "add element inet certknock allow4 { 0.0.0.0 . tcp . 9-10 timeout 1s expires 1s comment \"ck1 0000000000000000\" }\n"
                + "add element inet certknock allow6 { :: . tcp . 9-10 timeout 1s expires 1s comment \"ck1 0000000000000000\" }\n"
                + "add element inet certknock allow4_port { 0.0.0.0 . tcp . 9 timeout 1s expires 1s comment \"ck1 0000000000000000\" }\n"
                + "add element inet certknock allow6_port { :: . tcp . 9 timeout 1s expires 1s comment \"ck1 0000000000000000\" }\n");
        assertThat(nft.scripts()).hasSize(1); // the setup; the warm-up applied nothing
    }

    @Test
    void aListingThatIsNotNftsJsonFailsTheStart() {
        nft.listingOverride = "Error: Could not process rule: No such file or directory";
        assertThatThrownBy(() -> start()).isInstanceOf(FirewallException.class)
                .hasMessageContaining("cannot read the listing of table inet certknock");
    }

    // --- open

    @Test
    void openAddsEveryGrantInOneBatchWithTimeoutExpiresAndComment() throws Exception {
        GrantLedger fw = start();
        clock.advance(Duration.ofMillis(500));
        Holder h = holder(0x1f);
        assertThat(fw.open(decision("198.51.100.7", T0, 60, h, "tcp/22", "udp/8000-8100")))
                .isEqualTo(GrantOutcome.OPENED);
        // One batch: the range goes to the interval set, the single port to the hash set.
        assertThat(nft.scripts()).hasSize(2);
        assertThat(nft.last()).isEqualTo("add element inet certknock allow4 { "
                + "198.51.100.7 . udp . 8000-8100 timeout 60s expires 59500ms comment \"" + comment(h) + "\" }\n"
                + "add element inet certknock allow4_port { "
                + "198.51.100.7 . tcp . 22 timeout 60s expires 59500ms comment \"" + comment(h) + "\" }\n");
        assertThat(comment(h)).matches("ck1 [0-9a-f]{16}").isEqualTo("ck1 " + h.leaf().tag());
        assertThat(events.seen()).containsExactly("opened 31");
    }

    @Test
    void aCertificateBelowAnIntermediateIsTaggedWithItsWholePath() throws Exception {
        GrantLedger fw = start();
        Holder h = underIntermediate(5);
        fw.open(decision("2001:db8::5", T0, 60, h, "tcp/22"));
        assertThat(nft.last()).isEqualTo("add element inet certknock allow6_port { 2001:db8::5 . tcp . 22 timeout 60s "
                + "expires 60s comment \"ck1 " + h.leaf().tag() + " " + INTERMEDIATE_REF.tag() + "\" }\n");
    }

    @Test
    void reopeningRefreshesAndDoesNotDuplicateAndAKnockThatExtendsNothingWritesNothing() throws Exception {
        GrantLedger fw = start();
        Holder h = holder(1);
        fw.open(decision("2001:db8::7", T0, 60, h, "tcp/22"));
        clock.advance(Duration.ofSeconds(30));
        GrantDecision again = decision("2001:db8::7", clock.instant(), 60, h, "tcp/22");
        fw.open(again);
        assertThat(nft.scripts()).hasSize(3);
        assertThat(nft.last()).isEqualTo("add element inet certknock allow6_port { 2001:db8::7 . tcp . 22 timeout 60s "
                + "expires 60s comment \"" + comment(h) + "\" }\n");
        assertThat(fw.elementCount()).isEqualTo(1);
        assertThat(fw.active(clock.instant())).containsExactly(again);

        // a knock of the same certificate that would end sooner than what nft holds tells nft nothing
        assertThat(fw.open(decision("2001:db8::7", clock.instant(), 10, h, "tcp/22"))).isEqualTo(GrantOutcome.OPENED);
        assertThat(nft.scripts()).hasSize(3);
    }

    @Test
    void anAlreadyExpiredDecisionIsRefusedAndWritesNothing() throws Exception {
        GrantLedger fw = start();
        clock.advance(Duration.ofSeconds(61));
        GrantOutcome outcome = fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22"));
        assertThat(outcome).isInstanceOf(GrantOutcome.Refused.class);
        assertThat(((GrantOutcome.Refused) outcome).reason()).isEqualTo(GrantOutcome.Refusal.EXPIRED);
        assertThat(nft.scripts()).hasSize(1);
        assertThat(events.seen()).isEmpty();
    }

    @Test
    void aGrantPastItsCertificatesLimitIsRefusedBeforeNftHearsOfIt() throws Exception {
        GrantLedger fw = start(nft, new GrantLedger.Settings(10, 2, false));
        fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22", "tcp/8000-8010"));
        int before = nft.scripts().size();
        GrantOutcome outcome = fw.open(decision("198.51.100.7", T0, 60, holder(1), "udp/51820"));
        assertThat(outcome).isInstanceOf(GrantOutcome.Refused.class);
        assertThat(((GrantOutcome.Refused) outcome).reason()).isEqualTo(GrantOutcome.Refusal.CERTIFICATE_LIMIT);
        assertThat(nft.scripts()).hasSize(before);
        assertThat(fw.open(decision("198.51.100.8", T0, 60, holder(2), "udp/51820"))).isEqualTo(GrantOutcome.OPENED);
        assertThat(nft.last()).contains("198.51.100.8 . udp . 51820");
    }

    @Test
    void aFailedBatchChangesNothingAndARefusedRevocationIsRetried() throws Exception {
        GrantLedger fw = start();
        nft.fail = true;
        assertThatThrownBy(() -> fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("Could not process rule");
        nft.fail = false;
        assertThat(fw.elementCount()).isZero();
        assertThat(fw.active(clock.instant())).isEmpty();
        assertThat(events.seen()).isEmpty();

        fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22"));
        nft.fail = true;
        assertThatThrownBy(() -> fw.revoke(Set.of(holder(1).leaf()))).isInstanceOf(FirewallException.class);
        assertThat(fw.elementCount()).as("still held: nft did not remove it").isEqualTo(1);
        int before = nft.scripts().size();
        nft.fail = false;
        // the housekeeping's next call retries the revocation
        assertThat(fw.active(clock.instant())).isEmpty();
        assertThat(nft.scripts()).hasSize(before + 1);
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(NftRendererTest.element("198.51.100.7", "tcp/22"))));
        assertThat(events.seen()).containsExactly("opened 1", "closed 1 revoked");
        assertThat(fw.elementCount()).isZero();
    }

    // --- batching

    @Test
    void grantsArrivingDuringACommitGoIntoOneBatch() throws Exception {
        nft.holdAt = 2; // the setup, then the first grant's batch waits
        GrantLedger fw = start();
        List<GrantDecision> decisions = new ArrayList<>();
        for (int n = 1; n <= 4; n++) {
            decisions.add(decision("198.51.100." + n, T0, 60, holder(n), "tcp/22"));
        }
        FutureTask<GrantOutcome> first = openInThread(fw, decisions.get(0));
        assertThat(nft.holding.await(10, TimeUnit.SECONDS)).isTrue();
        List<FutureTask<GrantOutcome>> rest = new ArrayList<>();
        List<Thread> waiting = new ArrayList<>();
        for (GrantDecision d : decisions.subList(1, 4)) {
            FutureTask<GrantOutcome> t = new FutureTask<>(() -> fw.open(d));
            Thread thread = new Thread(t, "open-" + d.serial());
            thread.start();
            rest.add(t);
            waiting.add(thread);
        }
        // The three have queued their decisions and wait for the lock the first one holds while its batch commits.
        awaitBlockedOn(fw, waiting);
        nft.release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
        for (FutureTask<GrantOutcome> t : rest) {
            assertThat(t.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
        }
        List<String> scripts = nft.scripts();
        assertThat(scripts).hasSize(3); // setup, the first grant, then the other three together
        assertThat(scripts.get(1)).contains("198.51.100.1 . tcp . 22").doesNotContain("198.51.100.2");
        assertThat(canonical(scripts.get(2))).containsExactly("add element inet certknock allow4_port { "
                + "198.51.100.2 . tcp . 22 timeout 60s expires 60s comment \"" + comment(holder(2)) + "\", "
                + "198.51.100.3 . tcp . 22 timeout 60s expires 60s comment \"" + comment(holder(3)) + "\", "
                + "198.51.100.4 . tcp . 22 timeout 60s expires 60s comment \"" + comment(holder(4)) + "\" }");
        assertThat(events.seen()).containsExactlyInAnyOrder("opened 1", "opened 2", "opened 3", "opened 4");
        assertThat(fw.elementCount()).isEqualTo(4);
    }

    @Test
    void aRefusedBatchIsRetriedOneByOneSoOnlyTheBadGrantFails() throws Exception {
        nft.holdAt = 2;
        nft.refuse = "198.51.100.66";
        GrantLedger fw = start();
        FutureTask<GrantOutcome> first = openInThread(fw, decision("198.51.100.1", T0, 60, holder(1), "tcp/22"));
        assertThat(nft.holding.await(10, TimeUnit.SECONDS)).isTrue();
        GrantDecision good = decision("198.51.100.5", T0, 60, holder(5), "tcp/22");
        GrantDecision bad = decision("198.51.100.66", T0, 60, holder(66), "tcp/22");
        FutureTask<GrantOutcome> goodTask = new FutureTask<>(() -> fw.open(good));
        FutureTask<GrantOutcome> badTask = new FutureTask<>(() -> fw.open(bad));
        Thread goodThread = new Thread(goodTask, "open-good");
        Thread badThread = new Thread(badTask, "open-bad");
        goodThread.start();
        badThread.start();
        awaitBlockedOn(fw, List.of(goodThread, badThread));
        nft.release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
        assertThat(goodTask.get(10, TimeUnit.SECONDS)).isEqualTo(GrantOutcome.OPENED);
        assertThatThrownBy(() -> badTask.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(FirewallException.class).hasMessageContaining("refused 198.51.100.66");
        // the setup, the first grant, then 198.51.100.5 alone after the batch of both was refused
        assertThat(nft.scripts()).hasSize(3);
        assertThat(nft.last()).isEqualTo("add element inet certknock allow4_port { 198.51.100.5 . tcp . 22 timeout 60s "
                + "expires 60s comment \"" + comment(holder(5)) + "\" }\n");
        assertThat(events.seen()).containsExactlyInAnyOrder("opened 1", "opened 5");
        assertThat(fw.elementCount()).isEqualTo(2);
    }

    static FutureTask<GrantOutcome> openInThread(GrantLedger fw, GrantDecision d) {
        FutureTask<GrantOutcome> t = new FutureTask<>(() -> fw.open(d));
        new Thread(t, "open-" + d.serial()).start();
        return t;
    }

    /** Waits until every thread is blocked entering the ledger's lock. */
    static void awaitBlockedOn(GrantLedger fw, List<Thread> threads) throws InterruptedException {
        String lock = fw.getClass().getName() + '@' + Integer.toHexString(System.identityHashCode(fw));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Thread t : threads) {
            while (true) {
                ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(t.getId());
                if (info != null && info.getThreadState() == Thread.State.BLOCKED && lock.equals(info.getLockName())) {
                    break;
                }
                assertThat(System.nanoTime()).as("%s never blocked on the ledger's lock", t.getName()).isLessThan(deadline);
                Thread.sleep(5);
            }
        }
    }

    // --- revocation

    @Test
    void revokingALeafDeletesExactlyItsElementsEvenOnesTheKernelAlreadyExpired() throws Exception {
        GrantLedger fw = start();
        fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22", "udp/8000-8100"));
        fw.open(decision("2001:db8::7", T0, 60, holder(1), "tcp/22"));
        fw.open(decision("198.51.100.8", T0, 60, holder(2), "tcp/22"));
        fw.open(decision("198.51.100.9", T0, 60, holder(1, OTHER_CA), "tcp/22")); // same serial, other CA
        int before = nft.scripts().size();

        assertThat(fw.revoke(Set.of(holder(1).leaf()))).as("two decisions closed").isEqualTo(2);

        assertThat(nft.scripts()).as("one batch").hasSize(before + 1);
        String script = nft.last();
        assertThat(canonical(script)).isEqualTo(canonical(RENDERER.deleteFromOwnSet(List.of(
                NftRendererTest.element("198.51.100.7", "tcp/22"), NftRendererTest.element("198.51.100.7", "udp/8000-8100"),
                NftRendererTest.element("2001:db8::7", "tcp/22")))));
        // single ports only in their hash sets: none was listed in an interval set at start, where earlier versions
        // put them (aSinglePortsDeleteTouchesOnlyItsHashSetUnlessItWasListedInAnIntervalSet)
        assertThat(canonical(script)).contains(
                "add element inet certknock allow4_port { 198.51.100.7 . tcp . 22 timeout 1s }",
                "delete element inet certknock allow4 { 198.51.100.7 . udp . 8000-8100 }",
                "delete element inet certknock allow6_port { 2001:db8::7 . tcp . 22 }").doesNotContain("allow6 {");
        assertDeletesAreSafe(script);
        assertThat(script).doesNotContain("198.51.100.8").doesNotContain("198.51.100.9");
        assertThat(events.seen()).containsExactly("opened 1", "opened 1", "opened 2", "opened 1", "closed 1 revoked",
                "closed 1 revoked");
        assertThat(fw.elementCount()).isEqualTo(2);

        assertThat(fw.revoke(Set.of(holder(1).leaf()))).isZero();
        assertThat(nft.scripts()).as("nothing left to delete").hasSize(before + 1);
    }

    @Test
    void revokingAnIntermediateDeletesTheElementsOfEveryCertificateBelowIt() throws Exception {
        GrantLedger fw = start();
        fw.open(decision("198.51.100.1", T0, 60, underIntermediate(1), "tcp/22"));
        fw.open(decision("198.51.100.2", T0, 60, underIntermediate(2), "tcp/8000-8010"));
        fw.open(decision("198.51.100.3", T0, 60, holder(3), "tcp/22"));

        assertThat(fw.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(2);

        assertThat(canonical(nft.last())).isEqualTo(canonical(RENDERER.deleteFromOwnSet(List.of(
                NftRendererTest.element("198.51.100.1", "tcp/22"), NftRendererTest.element("198.51.100.2", "tcp/8000-8010")))));
        assertDeletesAreSafe(nft.last());
        assertThat(fw.elementCount()).isEqualTo(1);
        assertThat(events.seen()).contains("closed 1 revoked", "closed 2 revoked").doesNotContain("closed 3 revoked");
    }

    @Test
    void aSharedElementIsWrittenAgainWithTheRemainingHoldersExpiryAndCommentWhenTheLaterHolderIsRevoked()
            throws Exception {
        GrantLedger fw = start();
        fw.open(decision("198.51.100.7", T0, 300, holder(1), "tcp/22"));
        int afterFirst = nft.scripts().size();
        assertThat(nft.last()).contains("timeout 300s expires 300s comment \"" + comment(holder(1)) + "\"");
        fw.open(decision("198.51.100.7", T0, 60, holder(2), "tcp/22"));
        // shared: the later expiry (300 s, certificate 1) stays in force, nft is told nothing
        assertThat(nft.scripts()).hasSize(afterFirst);
        clock.advance(Duration.ofSeconds(10));

        assertThat(fw.revoke(Set.of(holder(1).leaf()))).isEqualTo(1);

        NftElement e = NftRendererTest.element("198.51.100.7", "tcp/22");
        // one batch: deleted and added again, so no packet sees it missing
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(e)) + RENDERER.add(List.of(new NftEntry(e,
                Duration.ofSeconds(60), Duration.ofSeconds(50), comment(holder(2))))));
        assertDeletesAreSafe(nft.last());
        assertThat(fw.elementCount()).isEqualTo(1);
        assertThat(events.seen()).containsExactly("opened 1", "opened 2", "closed 1 revoked");
    }

    @Test
    void revokingTheHolderWhoseExpiryNftDoesNotHoldWritesNothing() throws Exception {
        GrantLedger fw = start();
        fw.open(decision("198.51.100.7", T0, 300, holder(1), "tcp/22"));
        fw.open(decision("198.51.100.7", T0, 60, holder(2), "tcp/22"));
        int before = nft.scripts().size();

        assertThat(fw.revoke(Set.of(holder(2).leaf()))).isEqualTo(1);

        assertThat(nft.scripts()).as("nft keeps certificate 1's expiry and comment").hasSize(before);
        assertThat(fw.elementCount()).isEqualTo(1);
        // and when certificate 1 goes too, the element goes
        assertThat(fw.revoke(Set.of(holder(1).leaf()))).isEqualTo(1);
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(NftRendererTest.element("198.51.100.7", "tcp/22"))));
    }

    @Test
    void aCrlRevokingAThousandCertificatesIsOneBatchAndNoListing() throws Exception {
        // opened before a restart by serial 50: only the kernel's comment names it
        nft.kernel.add(listed("198.51.100.50", "tcp/22", 30, comment(holder(50))));
        GrantLedger fw = start();
        fw.open(decision("198.51.100.1", T0, 60, holder(1), "tcp/22"));
        fw.open(decision("198.51.100.2", T0, 60, holder(2), "tcp/22"));
        fw.open(decision("198.51.100.3", T0, 60, holder(3), "tcp/22"));
        fw.open(decision("198.51.100.4", T0, 60, holder(4, OTHER_CA), "tcp/22")); // a revoked serial, other CA
        Set<BigInteger> serials = new HashSet<>();
        for (int serial = 100; serial < 1100; serial++) {
            serials.add(BigInteger.valueOf(serial));
        }
        serials.addAll(List.of(BigInteger.ONE, BigInteger.TWO, BigInteger.valueOf(4), BigInteger.valueOf(50)));
        int queriesBefore = nft.queries.size();
        int appliesBefore = nft.scripts().size();

        assertThat(fw.revoke(TestHolders.refs(CA, serials))).as("serials 1 and 2, and the element of 50").isEqualTo(3);

        assertThat(nft.queries).as("no listing").hasSize(queriesBefore);
        assertThat(nft.scripts()).as("one batch").hasSize(appliesBefore + 1);
        assertThat(canonical(nft.last())).contains("delete element inet certknock allow4_port { 198.51.100.1 . tcp . 22, "
                + "198.51.100.2 . tcp . 22, 198.51.100.50 . tcp . 22 }");
        assertThat(nft.last()).doesNotContain("198.51.100.3").doesNotContain("198.51.100.4");
        assertThat(events.seen()).contains("closed 1 revoked", "closed 2 revoked").doesNotContain("closed 3 revoked",
                "closed 4 revoked");
    }

    @Test
    void aKnockThatPassedTheRevocationCheckBeforeItsCrlLandedWritesNothing() throws Exception {
        GrantLedger fw = start();
        GrantDecision inFlight = decision("198.51.100.7", T0, 60, holder(7), "tcp/22"); // checked against the old CRL
        GrantDecision belowI = decision("198.51.100.6", T0, 60, underIntermediate(6), "tcp/22");
        fw.open(decision("198.51.100.8", T0, 60, holder(8), "tcp/22"));
        assertThat(fw.revoke(Set.of(holder(7).leaf(), holder(8).leaf(), INTERMEDIATE_REF))).isEqualTo(1);
        int applied = nft.scripts().size();

        for (GrantDecision d : List.of(inFlight, belowI)) {
            GrantOutcome outcome = fw.open(d);
            assertThat(outcome).isInstanceOf(GrantOutcome.Refused.class);
            assertThat(((GrantOutcome.Refused) outcome).reason()).isEqualTo(GrantOutcome.Refusal.REVOKED);
        }
        assertThat(nft.scripts()).hasSize(applied); // nothing written
        assertThat(events.seen()).doesNotContain("opened 7", "opened 6");
        // another CA's certificate with the same serial is not affected
        assertThat(fw.open(decision("198.51.100.9", T0, 60, holder(7, OTHER_CA), "tcp/22"))).isEqualTo(GrantOutcome.OPENED);
        assertThat(nft.last()).contains("198.51.100.9 . tcp . 22");
    }

    // --- expiry

    @Test
    void expiryIsReportedOnceAndLeftToTheKernel() throws Exception {
        GrantLedger fw = start();
        fw.open(decision("198.51.100.7", T0, 10, holder(1), "tcp/22", "tcp/443"));
        int before = nft.scripts().size();
        clock.advance(Duration.ofSeconds(10));
        assertThat(fw.active(clock.instant())).isEmpty();
        assertThat(events.seen()).containsExactly("opened 1", "closed 1 expired");
        assertThat(fw.elementCount()).isZero();
        assertThat(nft.scripts()).as("the kernel expires elements by itself").hasSize(before);
        assertThat(fw.revoke(Set.of(holder(1).leaf()))).isZero();
        assertThat(nft.scripts()).hasSize(before);
    }

    // --- after a restart

    @Test
    void afterARestartElementsAreClosedByARevocationOfTheirLeafOrOfAnIntermediateOfItsPath() throws Exception {
        nft.kernel.add(listed("198.51.100.7", "tcp/22", 40, comment(holder(7))));
        nft.kernel.add(listed("198.51.100.7", "udp/8000-8100", 40, comment(holder(7))));
        nft.kernel.add(listed("2001:db8::6", "tcp/22", 40, comment(underIntermediate(6))));
        nft.kernel.add(listed("198.51.100.8", "tcp/22", 40, comment(holder(7, OTHER_CA)))); // same serial, other CA
        nft.kernel.add(listed("198.51.100.9", "tcp/22", 40, "added by hand")); // not ours to name
        nft.kernel.add(listed("198.51.100.10", "tcp/22", 0, comment(holder(7)))); // the kernel is dropping it
        GrantLedger fw = start();
        assertThat(fw.elementCount()).isEqualTo(5);
        int before = nft.scripts().size();

        assertThat(fw.revoke(Set.of(holder(7).leaf()))).as("its two elements").isEqualTo(2);
        assertThat(nft.scripts()).hasSize(before + 1);
        assertThat(canonical(nft.last())).isEqualTo(canonical(RENDERER.deleteFromOwnSet(List.of(
                NftRendererTest.element("198.51.100.7", "tcp/22"), NftRendererTest.element("198.51.100.7", "udp/8000-8100")))));
        assertDeletesAreSafe(nft.last());

        assertThat(fw.revoke(Set.of(INTERMEDIATE_REF))).isEqualTo(1);
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(NftRendererTest.element("2001:db8::6", "tcp/22"))));
        assertThat(fw.elementCount()).as("the other CA's element and the untagged one stay").isEqualTo(2);
        assertThat(events.seen()).as("elements from before a restart are no decisions").isEmpty();
    }

    @Test
    void afterARestartASharedElementIsWrittenAgainForTheHolderThatStays() throws Exception {
        nft.kernel.add(listed("198.51.100.7", "tcp/22", 40, comment(holder(7))));
        GrantLedger fw = start();
        Holder newcomer = holder(8);
        fw.open(decision("198.51.100.7", T0, 20, newcomer, "tcp/22"));
        int before = nft.scripts().size();
        assertThat(before).as("nft holds the element longer already").isEqualTo(1);
        clock.advance(Duration.ofSeconds(5));

        assertThat(fw.revoke(Set.of(holder(7).leaf()))).isEqualTo(1);

        NftElement e = NftRendererTest.element("198.51.100.7", "tcp/22");
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(e)) + RENDERER.add(List.of(new NftEntry(e,
                Duration.ofSeconds(20), Duration.ofSeconds(15), comment(newcomer)))));
        assertThat(fw.elementCount()).isEqualTo(1);
        assertThat(fw.revoke(Set.of(newcomer.leaf()))).isEqualTo(1);
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(e)));
    }

    @Test
    void aSinglePortsDeleteTouchesOnlyItsHashSetUnlessItWasListedInAnIntervalSet() throws Exception {
        // left by a version before the hash sets: in the interval set; and one in its own set
        nft.kernel.add(listedInIntervalSet("198.51.100.7", "tcp/22", 40, comment(holder(7))));
        nft.kernel.add(listed("198.51.100.8", "tcp/22", 40, comment(holder(8))));
        GrantLedger fw = start();
        NftElement legacy = NftRendererTest.element("198.51.100.7", "tcp/22");
        NftElement own = NftRendererTest.element("198.51.100.8", "tcp/22");

        assertThat(fw.revoke(Set.of(holder(8).leaf()))).isEqualTo(1);
        assertThat(nft.last()).isEqualTo(RENDERER.deleteFromOwnSet(List.of(own)))
                .contains("allow4_port {").doesNotContain("allow4 {");

        // a holder change of the legacy element: deleted wherever it may be, then added to its hash set
        fw.open(decision("198.51.100.7", T0, 100, holder(9), "tcp/22"));
        assertThat(nft.last()).startsWith(RENDERER.delete(List.of(legacy))).contains("allow4 {");
        // from then on it is known to be in its own set only (certificate 7 still holds it: written again for it)
        assertThat(fw.revoke(Set.of(holder(9).leaf()))).isEqualTo(1);
        assertThat(nft.last()).startsWith(RENDERER.deleteFromOwnSet(List.of(legacy))).doesNotContain("allow4 {")
                .contains("comment \"" + comment(holder(7)) + "\"");
    }

    @Test
    void aFailedDeleteOfALegacyElementIsSearchedEverywhereAgain() throws Exception {
        nft.kernel.add(listedInIntervalSet("198.51.100.7", "tcp/22", 40, comment(holder(7))));
        GrantLedger fw = start();
        NftElement legacy = NftRendererTest.element("198.51.100.7", "tcp/22");
        nft.fail = true;
        assertThatThrownBy(() -> fw.revoke(Set.of(holder(7).leaf()))).isInstanceOf(FirewallException.class);
        nft.fail = false;
        fw.active(clock.instant()); // the refused revocation is retried
        assertThat(nft.last()).isEqualTo(RENDERER.delete(List.of(legacy))).contains("allow4 {");
    }

    @Test
    void anElementFromBeforeARestartThatNamesNoHolderIsWrittenAgainWithoutAComment() throws Exception {
        nft.kernel.add(listed("198.51.100.7", "tcp/22", 40, "certknock s=7 i=0011223344556677")); // an older format
        GrantLedger fw = start();
        fw.open(decision("198.51.100.7", T0, 100, holder(1), "tcp/22"));
        fw.open(decision("198.51.100.7", T0, 30, holder(2), "tcp/22"));
        clock.advance(Duration.ofSeconds(5));

        assertThat(fw.revoke(Set.of(holder(1).leaf()))).isEqualTo(1);

        NftElement e = NftRendererTest.element("198.51.100.7", "tcp/22");
        assertThat(nft.last()).as("kept for its own 35 s left, with no made-up comment").isEqualTo(RENDERER.deleteFromOwnSet(List.of(e))
                + RENDERER.add(List.of(new NftEntry(e, Duration.ofSeconds(35), Duration.ofSeconds(35), null))));
    }

    // --- stop

    @Test
    void closeKeepsGrantsByDefault() throws Exception {
        GrantLedger fw = start();
        fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22"));
        int before = nft.scripts().size();
        fw.close();
        assertThat(nft.scripts()).hasSize(before);
        assertThat(events.seen()).containsExactly("opened 1");
    }

    @Test
    void closeFlushesEveryGrantSetWhenConfigured() throws Exception {
        GrantLedger fw = start(nft, GrantLedger.Settings.defaults().withRemoveAllOnStop(true));
        fw.open(decision("198.51.100.7", T0, 60, holder(1), "tcp/22"));
        fw.open(decision("2001:db8::7", T0, 60, holder(2), "tcp/8000-8010"));
        fw.close();
        assertThat(nft.last()).isEqualTo(RENDERER.flushSets()).isEqualTo("flush set inet certknock allow4\n"
                + "flush set inet certknock allow6\nflush set inet certknock allow4_port\n"
                + "flush set inet certknock allow6_port\n");
        assertThat(events.seen()).startsWith("opened 1", "opened 2").hasSize(4).containsOnlyOnce("closed 1 stopped",
                "closed 2 stopped");
        int before = nft.scripts().size();
        fw.close(); // idempotent
        assertThat(nft.scripts()).hasSize(before);
    }

    // --- describe

    @Test
    void describeSaysHowNftIsReached() {
        NftSettings inNamespace = new NftSettings("certknock", 62201, NftRendererTest.PROTECT, true,
                List.of("ip", "netns", "exec", "ns1"));
        NftWriter process = new NftWriter(inNamespace);
        assertThat(process.describe()).isEqualTo("backend nftables, table inet certknock (input priority filter - 10, "
                + "knock port udp/62201 dropped, rejecting [tcp/22, tcp/8000-8100, udp/51820]), "
                + "one nft process per batch, through ip netns exec ns1");
        process.close();

        NftWriter direct = new NftWriter(SETTINGS);
        try {
            boolean loadable;
            try (LibNftExecutor lib = LibNftExecutor.load().orElse(null)) {
                loadable = lib != null;
            }
            assertThat(direct.describe()).startsWith("backend nftables, table inet certknock (input priority filter - 10, "
                    + "knock port udp/62201 dropped, dropping [tcp/22, tcp/8000-8100, udp/51820]), ")
                    .endsWith(loadable ? "in-process through libnftables, grants over netlink"
                            : "one nft process per batch (libnftables.so.1 cannot be loaded; install libnftables1)");
        } finally {
            direct.close();
        }
        assertThat(new NftWriter(SETTINGS, nft).describe()).endsWith("), FakeNft");
    }
}
