package dev.certknock.server.crl;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.certknock.testing.http.CrlServer;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class CrlRefresherTest {

    private static final String PATH = "/pki/ca.crl";
    private static final Duration WAIT = Duration.ofSeconds(6);

    private final Clock systemClock = Clock.systemUTC();
    private final TestCa ca = TestCa.root("CN=refresher test CA", systemClock);
    private final IssuedCertificate alice = ca.leaf("CN=alice").build();
    private final CrlServer server;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger refresherLog = (Logger) LoggerFactory.getLogger(CrlRefresher.class);

    @TempDir
    Path cacheDir;

    CrlRefresherTest() throws IOException {
        server = CrlServer.start();
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        refresherLog.addAppender(logs);
    }

    @AfterEach
    void close() {
        refresherLog.detachAppender(logs);
        server.close();
    }

    private CrlSettings settings(Duration interval) {
        return CrlSettings.defaults(List.of(new CrlSource(server.uri(PATH))), cacheDir).withRefreshInterval(interval)
                .withTimeouts(Duration.ofMillis(500), Duration.ofMillis(500)).withMaxBytes(64 * 1024);
    }

    private CrlStore store(Clock clock) {
        return new CrlStore(List.of(ca.certificate()), clock, Duration.ZERO);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, WAIT, Duration.ofMillis(20), condition);
    }

    private long warnings() {
        return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).count();
    }

    @Test
    void aNewlyPublishedRevocationTakesEffectOnTheIntervalScheduleAndIsAnnounced() throws Exception {
        CrlStore store = store(systemClock);
        BlockingQueue<Set<BigInteger>> announced = new LinkedBlockingQueue<>();
        store.addListener(new CrlListener() {
            @Override
            public void crlAccepted(CaKey issuer, BigInteger crlNumber, Set<BigInteger> newlyRevokedSerials) {
                announced.add(newlyRevokedSerials);
            }

            @Override
            public void crlRejected(String origin, RejectionReason reason, String message) {
            }
        });
        server.publish(PATH, ca.crl().number(1).build().getEncoded());
        try (CrlRefresher refresher = new CrlRefresher(settings(Duration.ofSeconds(1)), store, systemClock)) {
            refresher.refreshNow();
            refresher.start();
            assertThat(announced.take()).isEmpty();
            assertThat(store.status(alice.certificate())).isEqualTo(RevocationStatus.GOOD);
            await("a conditional fetch answered 304 by the schedule", () -> server.notModifiedCount(PATH) >= 1);

            byte[] held = ca.crl().number(2).revoke(alice.certificate()).build().getEncoded();
            server.publish(PATH, held);
            await("alice revoked", () -> store.status(alice.certificate()) instanceof RevocationStatus.Revoked);

            assertThat(announced.poll(1, TimeUnit.SECONDS)).containsExactly(alice.certificate().getSerialNumber());
            assertThat(store.generation()).isEqualTo(2);
            CrlCache cache = refresher.cache();
            // The store takes the new CRL first; the refresher saves it to the cache right after.
            await("the cache to hold the new CRL", () -> {
                try {
                    return java.util.Arrays.equals(java.nio.file.Files.readAllBytes(
                            cache.fileFor(CaKey.of(ca.certificate()))), held);
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertThat(refresher.nextRun()).isPresent();
        }
    }

    @Test
    void aStalledSourceNeitherDelaysAnotherNorHoldsTheRunPastItsDeadline() throws Exception {
        CrlStore store = store(systemClock);
        server.publish(PATH, ca.crl().number(1).revoke(alice.certificate()).build().getEncoded());
        try (TricklingHttpSource trickle = new TricklingHttpSource(Duration.ofMillis(100))) {
            // The stalled source comes first: fetched one after the other, it would hold the good one back.
            CrlSettings settings = CrlSettings.defaults(List.of(new CrlSource(trickle.uri("/stalled.crl")),
                    new CrlSource(server.uri(PATH))), cacheDir).withRefreshInterval(Duration.ofHours(1))
                    .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2)).withMaxBytes(64 * 1024);
            try (CrlRefresher refresher = new CrlRefresher(settings, store, systemClock)) {
                long start = System.nanoTime();
                CompletableFuture<List<CrlRefresher.SourceOutcome>> run = CompletableFuture.supplyAsync(refresher::refreshNow);
                await("the good source's CRL", () -> store.status(alice.certificate()) instanceof RevocationStatus.Revoked);
                assertThat(trickle.trickling()).as("the stalled source is still being waited for").isTrue();

                List<CrlRefresher.SourceOutcome> outcomes = run.get(20, TimeUnit.SECONDS);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3 + 3));
                assertThat(outcomes.get(0).fetch()).isInstanceOfSatisfying(FetchResult.Failed.class,
                        f -> assertThat(f.reason()).contains("no complete response within 3 s"));
                assertThat(outcomes.get(1).update()).containsInstanceOf(CrlUpdate.Accepted.class);
                assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage())
                        .contains(trickle.uri("/stalled.crl").toString()).contains("fetch deadline"));
            }
        }
    }

    @Test
    void failuresKeepTheLastGoodCrlAndAreLoggedOncePerChange() throws Exception {
        CrlStore store = store(systemClock);
        List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.publish(PATH, ca.crl().number(1).revoke(alice.certificate()).build().getEncoded());
        try (CrlRefresher refresher = new CrlRefresher(settings(Duration.ofHours(1)), store, systemClock)) {
            refresher.addListener(new CrlRefresher.SourceListener() {
                @Override
                public void fetchFailed(URI source, String reason) {
                    failures.add(reason);
                }

                @Override
                public void fetchRecovered(URI source) {
                    failures.add("recovered");
                }
            });
            assertThat(refresher.refreshNow()).singleElement()
                    .satisfies(o -> assertThat(o.update()).containsInstanceOf(CrlUpdate.Accepted.class));
            long warningsBefore = warnings();

            server.fail(PATH, 404);
            for (int i = 0; i < 3; i++) {
                assertThat(refresher.refreshNow()).singleElement()
                        .satisfies(o -> assertThat(o.fetch()).isEqualTo(new FetchResult.Failed("HTTP 404 Not Found")));
            }
            assertThat(warnings() - warningsBefore).isEqualTo(1);

            server.publish(PATH, ca.crl().number(2).revoke(alice.certificate()).build().getEncoded());
            server.stall(PATH, Duration.ofSeconds(2));
            refresher.refreshNow();
            refresher.refreshNow();
            assertThat(warnings() - warningsBefore).isEqualTo(2);

            server.publish(PATH, new byte[64 * 1024 + 1]);
            refresher.refreshNow();
            assertThat(warnings() - warningsBefore).isEqualTo(3);

            assertThat(store.generation()).isEqualTo(1);
            assertThat(store.info(ca.certificate().getSubjectX500Principal()).orElseThrow().crlNumber()).isEqualTo(1);
            assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);

            server.publish(PATH, ca.crl().number(3).build().getEncoded());
            refresher.refreshNow();
            assertThat(store.status(alice.certificate())).isEqualTo(RevocationStatus.GOOD);
            assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("works again"));
            // every failure is told to the listener (for metrics), only changes are logged
            assertThat(failures).hasSize(7).last().isEqualTo("recovered");
            assertThat(failures.subList(0, 3)).containsOnly("HTTP 404 Not Found");
            assertThat(failures.subList(3, 5)).allSatisfy(f -> assertThat(f).startsWith("no response within"));
            assertThat(failures.get(5)).contains("larger than the limit");
        }
    }

    @Test
    void aRejectedCrlIsWarnedOnceKeepsTheHeldOneAndIsFetchedInFullAgain() throws Exception {
        CrlStore store = store(systemClock);
        TestCa impostor = TestCa.root("CN=impostor", systemClock);
        server.publish(PATH, ca.crl().number(1).build().getEncoded());
        try (CrlRefresher refresher = new CrlRefresher(settings(Duration.ofHours(1)), store, systemClock)) {
            refresher.refreshNow();
            long warningsBefore = warnings();
            server.publish(PATH, ca.crl().number(2).revoke(alice.certificate()).signedBy(impostor).build().getEncoded());
            for (int i = 0; i < 3; i++) {
                assertThat(refresher.refreshNow()).singleElement().satisfies(o -> assertThat(o.update()).hasValueSatisfying(
                        u -> assertThat(u).isInstanceOfSatisfying(CrlUpdate.Rejected.class,
                                r -> assertThat(r.reason()).isEqualTo(RejectionReason.BAD_SIGNATURE))));
            }
            assertThat(warnings() - warningsBefore).isEqualTo(1);
            assertThat(server.notModifiedCount(PATH)).isZero(); // no 304 for a CRL the store refused
            assertThat(store.status(alice.certificate())).isEqualTo(RevocationStatus.GOOD);
        }
    }

    @Test
    void refreshNowAtStartLoadsTheCacheWhenTheSourceIsDown() throws Exception {
        server.publish(PATH, ca.crl().number(5).revoke(alice.certificate()).build().getEncoded());
        CrlSettings settings = settings(Duration.ofHours(1));
        try (CrlRefresher first = new CrlRefresher(settings, store(systemClock), systemClock)) {
            first.refreshNow();
        }
        server.close();

        CrlStore restarted = store(systemClock);
        try (CrlRefresher second = new CrlRefresher(settings, restarted, systemClock)) {
            assertThat(second.refreshNow()).singleElement()
                    .satisfies(o -> assertThat(o.fetch()).isInstanceOf(FetchResult.Failed.class));
            assertThat(restarted.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
            assertThat(restarted.info(ca.certificate().getSubjectX500Principal()).orElseThrow().crlNumber()).isEqualTo(5);
        }
    }

    @Test
    void aCrlIsFetchedAgainAtItsNextUpdateWhenThatComesBeforeTheInterval() throws Exception {
        CrlStore store = store(systemClock);
        server.publish(PATH, ca.crl().number(1).nextUpdate(Instant.now().plusMillis(1500)).build().getEncoded());
        try (CrlRefresher refresher = new CrlRefresher(settings(Duration.ofHours(1)), store, systemClock)) {
            refresher.refreshNow();
            refresher.start();
            assertThat(refresher.nextRun()).hasValueSatisfying(
                    t -> assertThat(t).isBefore(Instant.now().plusSeconds(2)));
            server.publish(PATH, ca.crl().number(2).revoke(alice.certificate()).build().getEncoded());
            await("alice revoked at the first CRL's nextUpdate",
                    () -> store.status(alice.certificate()) instanceof RevocationStatus.Revoked);
            await("the extra run is not kept once the new CRL's nextUpdate is after the interval",
                    () -> refresher.nextRun().orElseThrow().isAfter(Instant.now().plus(Duration.ofMinutes(59))));
        }
    }

    @Test
    void theScheduleReportsACrlTurningStaleOnce() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        CrlStore store = new CrlStore(List.of(ca.certificate()), clock, Duration.ofMinutes(10));
        BlockingQueue<Boolean> freshness = new LinkedBlockingQueue<>();
        store.addListener(new CrlListener() {
            @Override
            public void crlAccepted(CaKey issuer, BigInteger crlNumber, Set<BigInteger> newlyRevokedSerials) {
            }

            @Override
            public void crlRejected(String origin, RejectionReason reason, String message) {
            }

            @Override
            public void freshnessChanged(X500Principal issuer, boolean fresh) {
                freshness.add(fresh);
            }
        });
        server.publish(PATH, ca.crl().number(1).nextUpdate(clock.instant().plus(Duration.ofHours(1))).build().getEncoded());
        try (CrlRefresher refresher = new CrlRefresher(settings(Duration.ofSeconds(1)), store, clock)) {
            refresher.refreshNow();
            server.fail(PATH, 503);
            clock.advance(Duration.ofHours(2));
            refresher.start();
            assertThat(freshness.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).as("reported by a scheduled run").isFalse();
            assertThat(store.status(alice.certificate()))
                    .isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.STALE));
            refresher.refreshNow();
            refresher.refreshNow();
            assertThat(freshness).isEmpty();
        }
    }
}
