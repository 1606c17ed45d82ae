package dev.certknock.server.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.InMemoryFirewalls.Backend;
import dev.certknock.server.firewall.InMemoryFirewalls.Held;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;
import dev.certknock.testing.time.MutableClock;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ledger's contract, the same cases against every backend ({@code log}, {@code nftables}, {@code iptables},
 * {@code command}), each writer over an in-memory firewall that answers as the real one ({@link InMemoryFirewalls}).
 * What a case checks in the firewall is skipped for {@code log}, which has none; everything the ledger reports is
 * checked for all four. The real kernels are checked by {@code NftablesFirewallIT}, {@code IptablesFirewallIT} and
 * {@code FirewallTrafficIT}.
 */
class GrantLedgerContractTest {

    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    static final String ROOT_KEY = "11111111111111111111111111111111";
    static final String INTERMEDIATE_KEY = "22222222222222222222222222222222";
    /** Another CA with the same name as the root, but its own key. */
    static final String TWIN_KEY = "33333333333333333333333333333333";
    static final X500Principal ROOT = new X500Principal("CN=Root");
    static final X500Principal INTERMEDIATE = new X500Principal("CN=Issuing CA");
    static final CertRef INTERMEDIATE_CERT = new CertRef(ROOT_KEY, BigInteger.valueOf(0x1000));

    @TempDir
    static Path dir;

    final MutableClock clock = MutableClock.at(T0);
    final List<String> events = Collections.synchronizedList(new ArrayList<>());
    final KnockEventListener listener = new KnockEventListener() {
        @Override
        public void grantOpened(GrantDecision d) {
            events.add("opened " + d.serial());
        }

        @Override
        public void grantClosed(GrantDecision d, CloseReason why) {
            events.add("closed " + d.serial() + " " + why.label());
        }
    };
    final List<GrantLedger> ledgers = new ArrayList<>();

    static Stream<String> backends() {
        return Stream.of("log", "nftables", "iptables", "command");
    }

    Backend backend(String name) {
        return switch (name) {
            case "log" -> InMemoryFirewalls.log();
            case "nftables" -> InMemoryFirewalls.nftables(clock);
            case "iptables" -> InMemoryFirewalls.iptables(clock);
            case "command" -> InMemoryFirewalls.command(clock, dir.resolve("state-" + System.nanoTime() + ".json"));
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** A writer that counts batches and fails the next one when told to. */
    static final class Counting implements ElementWriter {
        final ElementWriter delegate;
        final List<List<ElementChange>> batches = new ArrayList<>();
        boolean failNext;

        Counting(ElementWriter delegate) {
            this.delegate = delegate;
        }

        @Override
        public void setUp() throws FirewallException {
            delegate.setUp();
        }

        @Override
        public void apply(List<ElementChange> batch) throws FirewallException {
            if (failNext) {
                failNext = false;
                throw new FirewallException("refused by the test", null);
            }
            batches.add(List.copyOf(batch));
            delegate.apply(batch);
        }

        @Override
        public List<HeldElement> list() throws FirewallException {
            return delegate.list();
        }

        @Override
        public boolean expiresByItself() {
            return delegate.expiresByItself();
        }

        @Override
        public void warmUp() {
            delegate.warmUp();
        }

        @Override
        public void removeAll() throws FirewallException {
            delegate.removeAll();
        }

        @Override
        public String describe() {
            return delegate.describe();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    Counting writer;

    GrantLedger start(Backend b, GrantLedger.Settings settings) throws FirewallException {
        writer = new Counting(b.newWriter());
        GrantLedger ledger = new GrantLedger(writer, settings, clock, listener).start();
        ledgers.add(ledger);
        return ledger;
    }

    GrantLedger start(Backend b) throws FirewallException {
        return start(b, new GrantLedger.Settings(100, 10, false));
    }

    @AfterEach
    void closeLedgers() {
        ledgers.forEach(GrantLedger::close);
    }

    static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    /** A leaf issued by the root directly. */
    static Holder direct(long serial) {
        return new Holder(new X500Principal("CN=user " + serial), ROOT, List.of(new CertRef(ROOT_KEY, BigInteger.valueOf(serial))));
    }

    /** A leaf issued by the intermediate, whose own certificate the root issued. */
    static Holder belowIntermediate(long serial) {
        return new Holder(new X500Principal("CN=user " + serial), INTERMEDIATE,
                List.of(new CertRef(INTERMEDIATE_KEY, BigInteger.valueOf(serial)), INTERMEDIATE_CERT));
    }

    GrantDecision grant(Holder h, String address, long seconds, String... ports) throws Exception {
        List<PortGrant> g = new ArrayList<>();
        for (String p : ports) {
            g.add(PortGrant.parse(p));
        }
        return new GrantDecision(ip(address), g, Duration.ofSeconds(seconds), clock.instant(), h);
    }

    Optional<Held> held(Backend b, String address, String port) throws Exception {
        PortGrant p = PortGrant.parse(port);
        return b.held(ip(address), p.protocol(), p.firstPort());
    }

    /** Asserts the firewall holds this port (for a backend that has one), until about then, named for this holder. */
    void assertHeld(Backend b, String address, String port, Instant until, Holder named) throws Exception {
        if (!b.hasFirewall()) {
            return;
        }
        Optional<Held> h = held(b, address, port);
        assertThat(h).as(b.name() + ": " + address + " " + port + " open").isPresent();
        if (h.get().until().equals(Instant.MAX)) {
            return; // the command target expires nothing by itself
        }
        assertThat(Duration.between(until, h.get().until()).abs()).as(b.name() + ": expiry of " + port)
                .isLessThanOrEqualTo(Duration.ofSeconds(1));
        if (named != null && h.get().comment() != null) {
            assertThat(HolderTags.parse(h.get().comment())).as(b.name() + ": the comment names the holder")
                    .containsExactlyInAnyOrderElementsOf(named.tags());
        }
    }

    void assertClosed(Backend b, String address, String port) throws Exception {
        if (b.hasFirewall()) {
            assertThat(held(b, address, port)).as(b.name() + ": " + address + " " + port + " closed").isEmpty();
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void opensEachElementForItsHolderUntilItsExpiry(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        GrantDecision d = grant(direct(1), "192.0.2.1", 60, "tcp/22", "udp/8000-8002");
        assertThat(ledger.open(d)).isEqualTo(GrantOutcome.OPENED);
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(60), direct(1));
        assertHeld(b, "192.0.2.1", "udp/8001", T0.plusSeconds(60), direct(1));
        assertClosed(b, "192.0.2.1", "tcp/23");
        assertClosed(b, "192.0.2.2", "tcp/22");
        assertThat(ledger.active(clock.instant())).containsExactly(d);
        assertThat(ledger.elementCount()).isEqualTo(2);
        assertThat(events).containsExactly("opened 1");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aRepeatedKnockExtendsTheExpiryAndNeverShortensOrDuplicatesIt(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        ledger.open(grant(direct(1), "192.0.2.1", 60, "tcp/22"));
        clock.advance(Duration.ofSeconds(10));
        ledger.open(grant(direct(1), "192.0.2.1", 120, "tcp/22"));
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(130), direct(1));
        int batches = writer.batches.size();
        ledger.open(grant(direct(1), "192.0.2.1", 5, "tcp/22"));
        assertThat(writer.batches).as("a shorter knock writes nothing").hasSize(batches);
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(130), direct(1));
        assertThat(ledger.elementCount()).isEqualTo(1);
        if (b.hasFirewall()) {
            assertThat(b.openPorts()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aSharedElementStaysWhileAnyHolderHoldsItWithTheLatestExpiry(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        ledger.open(grant(direct(1), "192.0.2.1", 60, "tcp/22"));
        ledger.open(grant(direct(2), "192.0.2.1", 120, "tcp/22"));
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(120), direct(2));
        assertThat(ledger.elementCount()).isEqualTo(1);

        assertThat(ledger.revoke(Set.of(direct(2).leaf()))).isEqualTo(1);
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(60), direct(1));
        assertThat(events).contains("closed 2 revoked").doesNotContain("closed 1 revoked");

        assertThat(ledger.revoke(Set.of(direct(1).leaf()))).isEqualTo(1);
        assertClosed(b, "192.0.2.1", "tcp/22");
        assertThat(ledger.active(clock.instant())).isEmpty();
        assertThat(ledger.elementCount()).isZero();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void revokingTheHolderThatDoesNotSetTheExpiryChangesNothingInTheFirewall(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        ledger.open(grant(direct(1), "192.0.2.1", 60, "tcp/22"));
        ledger.open(grant(direct(2), "192.0.2.1", 120, "tcp/22"));
        int batches = writer.batches.size();
        assertThat(ledger.revoke(Set.of(direct(1).leaf()))).isEqualTo(1);
        assertThat(writer.batches).hasSize(batches);
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(120), direct(2));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void expiryClosesAndReportsOncePerDecision(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        GrantDecision shortOne = grant(direct(1), "192.0.2.1", 30, "tcp/22", "tcp/443");
        GrantDecision longOne = grant(direct(2), "192.0.2.2", 90, "tcp/22");
        ledger.open(shortOne);
        ledger.open(longOne);
        clock.advance(Duration.ofSeconds(31));
        assertThat(ledger.active(clock.instant())).containsExactly(longOne);
        assertClosed(b, "192.0.2.1", "tcp/22");
        assertClosed(b, "192.0.2.1", "tcp/443");
        assertHeld(b, "192.0.2.2", "tcp/22", T0.plusSeconds(90), direct(2));
        ledger.active(clock.instant());
        assertThat(events).containsExactly("opened 1", "opened 2", "closed 1 expired");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void revokingAnIntermediateClosesEveryGrantBelowItAndNothingElse(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        ledger.open(grant(belowIntermediate(5), "192.0.2.5", 60, "tcp/22"));
        ledger.open(grant(belowIntermediate(6), "192.0.2.6", 60, "tcp/22"));
        ledger.open(grant(direct(7), "192.0.2.7", 60, "tcp/22"));
        // the same serial from a CA of the same name with another key: not the intermediate
        assertThat(ledger.revoke(Set.of(new CertRef(TWIN_KEY, INTERMEDIATE_CERT.serial())))).isZero();
        assertThat(ledger.revoke(Set.of(INTERMEDIATE_CERT))).isEqualTo(2);
        assertClosed(b, "192.0.2.5", "tcp/22");
        assertClosed(b, "192.0.2.6", "tcp/22");
        assertHeld(b, "192.0.2.7", "tcp/22", T0.plusSeconds(60), direct(7));
        assertThat(ledger.active(clock.instant())).extracting(GrantDecision::serial).containsExactly(BigInteger.valueOf(7));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aGrantRevokedWhileItsKnockWasInThePipelineIsRefusedBeforeAnythingIsWritten(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        ledger.revoke(Set.of(INTERMEDIATE_CERT));
        int batches = writer.batches.size();
        GrantOutcome outcome = ledger.open(grant(belowIntermediate(5), "192.0.2.5", 60, "tcp/22"));
        assertThat(outcome).isInstanceOf(GrantOutcome.Refused.class);
        assertThat(((GrantOutcome.Refused) outcome).reason()).isEqualTo(GrantOutcome.Refusal.REVOKED);
        assertThat(writer.batches).hasSize(batches);
        assertClosed(b, "192.0.2.5", "tcp/22");
        clock.advance(GrantLedger.REVOKED_MEMORY.plusSeconds(1));
        assertThat(ledger.open(grant(belowIntermediate(5), "192.0.2.5", 60, "tcp/22")))
                .as("remembered for a while only: the CRL check refuses it from then on").isEqualTo(GrantOutcome.OPENED);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void thePerCertificateLimitRefusesBeforeWritingAndLeavesOtherCertificatesAlone(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b, new GrantLedger.Settings(100, 3, false));
        assertThat(ledger.open(grant(direct(1), "192.0.2.1", 60, "tcp/22", "tcp/23"))).isEqualTo(GrantOutcome.OPENED);
        int batches = writer.batches.size();
        GrantOutcome past = ledger.open(grant(direct(1), "192.0.2.2", 60, "tcp/22", "tcp/23"));
        assertThat(past).isInstanceOf(GrantOutcome.Refused.class);
        assertThat(((GrantOutcome.Refused) past).reason()).isEqualTo(GrantOutcome.Refusal.CERTIFICATE_LIMIT);
        assertThat(writer.batches).as("nothing written").hasSize(batches);
        assertClosed(b, "192.0.2.2", "tcp/22");
        assertThat(ledger.elementCount(direct(1).leaf())).isEqualTo(2);
        assertThat(ledger.open(grant(direct(1), "192.0.2.1", 90, "tcp/22", "tcp/23")))
                .as("a repeated knock for what it holds adds nothing").isEqualTo(GrantOutcome.OPENED);
        assertThat(ledger.open(grant(direct(1), "192.0.2.3", 60, "tcp/22"))).as("up to the limit")
                .isEqualTo(GrantOutcome.OPENED);
        assertThat(ledger.open(grant(direct(2), "192.0.2.2", 60, "tcp/22", "tcp/23"))).as("another certificate")
                .isEqualTo(GrantOutcome.OPENED);
        if (b.hasFirewall()) {
            assertThat(b.openPorts()).isEqualTo(5);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void theTotalLimitRefusesBeforeWriting(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b, new GrantLedger.Settings(3, 3, false));
        ledger.open(grant(direct(1), "192.0.2.1", 60, "tcp/22", "tcp/23"));
        int batches = writer.batches.size();
        GrantOutcome past = ledger.open(grant(direct(2), "192.0.2.2", 60, "tcp/22", "tcp/23"));
        assertThat(past).isInstanceOf(GrantOutcome.Refused.class);
        assertThat(((GrantOutcome.Refused) past).reason()).isEqualTo(GrantOutcome.Refusal.TOTAL_LIMIT);
        assertThat(writer.batches).hasSize(batches);
        assertThat(ledger.open(grant(direct(2), "192.0.2.1", 60, "tcp/22"))).as("sharing an open element adds none")
                .isEqualTo(GrantOutcome.OPENED);
        clock.advance(Duration.ofSeconds(61));
        ledger.active(clock.instant());
        assertThat(ledger.open(grant(direct(2), "192.0.2.2", 60, "tcp/22", "tcp/23"))).as("room again after expiry")
                .isEqualTo(GrantOutcome.OPENED);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void afterARestartARevocationOfTheLeafOrOfAnIntermediateStillCloses(String name) throws Exception {
        Backend b = backend(name);
        assumeTrue(b.hasFirewall(), "log keeps nothing across a restart");
        GrantLedger first = start(b);
        first.open(grant(direct(1), "192.0.2.1", 60, "tcp/22"));
        first.open(grant(belowIntermediate(5), "192.0.2.5", 60, "tcp/22"));
        first.open(grant(direct(7), "192.0.2.7", 60, "tcp/22"));
        first.close(); // keeps the elements
        ledgers.remove(first);
        clock.advance(Duration.ofSeconds(5));

        GrantLedger second = start(b);
        assertThat(second.elementCount()).isEqualTo(3);
        assertThat(second.revoke(Set.of(direct(1).leaf()))).isEqualTo(1);
        assertClosed(b, "192.0.2.1", "tcp/22");
        assertThat(second.revoke(Set.of(INTERMEDIATE_CERT))).isEqualTo(1);
        assertClosed(b, "192.0.2.5", "tcp/22");
        assertHeld(b, "192.0.2.7", "tcp/22", T0.plusSeconds(60), direct(7));
        clock.advance(Duration.ofSeconds(56));
        second.active(clock.instant());
        assertClosed(b, "192.0.2.7", "tcp/22");
        assertThat(second.elementCount()).isZero();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aRevocationTheFirewallRefusedIsRetriedUntilItSucceeds(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        ledger.open(grant(direct(1), "192.0.2.1", 60, "tcp/22"));
        writer.failNext = true;
        assertThatThrownBy(() -> ledger.revoke(Set.of(direct(1).leaf()))).isInstanceOf(FirewallException.class);
        assertThat(ledger.open(grant(direct(1), "192.0.2.9", 60, "tcp/22")))
                .isInstanceOf(GrantOutcome.Refused.class);
        ledger.active(clock.instant());
        assertClosed(b, "192.0.2.1", "tcp/22");
        assertThat(ledger.active(clock.instant())).isEmpty();
        assertThat(events).containsOnlyOnce("closed 1 revoked");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void grantsQueuedDuringACommitGoIntoOneBatchAndARefusedBatchIsRetriedOneByOne(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger ledger = start(b);
        BiFunction<Long, String, GrantDecision> g = (serial, address) -> {
            try {
                return grant(direct(serial), address, 60, "tcp/22");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        ledger.queueForTest(g.apply(1L, "192.0.2.1"));
        ledger.queueForTest(g.apply(2L, "192.0.2.2"));
        int batches = writer.batches.size();
        ledger.open(g.apply(3L, "192.0.2.3"));
        assertThat(writer.batches).as("one batch for three grants").hasSize(batches + 1);
        assertThat(writer.batches.get(batches)).hasSize(3);

        ledger.queueForTest(g.apply(4L, "192.0.2.4"));
        writer.failNext = true;
        assertThat(ledger.open(g.apply(5L, "192.0.2.5"))).isEqualTo(GrantOutcome.OPENED);
        assertHeld(b, "192.0.2.4", "tcp/22", T0.plusSeconds(60), direct(4));
        assertHeld(b, "192.0.2.5", "tcp/22", T0.plusSeconds(60), direct(5));
        assertThat(ledger.active(clock.instant())).hasSize(5);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void atStopTheFirewallIsEmptiedOnlyWhenConfigured(String name) throws Exception {
        Backend b = backend(name);
        GrantLedger keeping = start(b);
        keeping.open(grant(direct(1), "192.0.2.1", 60, "tcp/22"));
        keeping.close();
        assertHeld(b, "192.0.2.1", "tcp/22", T0.plusSeconds(60), direct(1));
        assertThat(events).doesNotContain("closed 1 stopped");

        GrantLedger flushing = start(b, new GrantLedger.Settings(100, 10, true));
        flushing.open(grant(direct(2), "192.0.2.2", 60, "tcp/22"));
        flushing.close();
        assertClosed(b, "192.0.2.1", "tcp/22");
        assertClosed(b, "192.0.2.2", "tcp/22");
        assertThat(events).contains("closed 2 stopped");
    }
}
