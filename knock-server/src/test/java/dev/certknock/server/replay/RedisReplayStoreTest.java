package dev.certknock.server.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.certknock.testing.redis.RedisServer;
import dev.certknock.testing.wait.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The gateway group's replay store against a real redis-server on loopback (docs/DESIGN.md D36). */
class RedisReplayStoreTest {

    private static final Duration DEADLINE = Duration.ofMillis(100);
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger storeLog = (Logger) LoggerFactory.getLogger(RedisReplayStore.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        storeLog.addAppender(logs);
        storeLog.setLevel(Level.INFO);
    }

    @AfterEach
    void releaseLogs() {
        storeLog.detachAppender(logs);
        storeLog.setLevel(null);
    }

    static ReplayKey randomKey() {
        byte[] f = new byte[ReplayKey.FINGERPRINT_SIZE];
        byte[] n = new byte[ReplayKey.NONCE_SIZE];
        RANDOM.nextBytes(f);
        RANDOM.nextBytes(n);
        return ReplayKey.of(f, n);
    }

    private static RedisReplayStore store(String uri, boolean localOnly, String name) {
        return RedisReplayStore.start(new RedisReplayStore.Settings(uri, DEADLINE, localOnly, name));
    }

    private static void awaitAvailable(RedisReplayStore s) throws InterruptedException {
        Await.until("the replay store to answer", Duration.ofSeconds(10), Duration.ofMillis(10), s::available);
    }

    private List<String> messages(Level level) {
        return logs.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aKeyIsClaimedOnceInTheWholeGroupAndLivesForItsTtl() throws Exception {
        try (RedisServer redis = RedisServer.start(dir);
                RedisReplayStore a = store(redis.uri(), false, "gw-a");
                RedisReplayStore b = store(redis.uri() + "/0", false, "gw-b")) {
            awaitAvailable(a);
            awaitAvailable(b);
            ReplayKey key = randomKey();
            assertThat(a.claim(key, 65_000)).isEqualTo(SharedClaim.CLAIMED);
            assertThat(b.claim(key, 65_000)).as("the other gateway").isEqualTo(SharedClaim.ALREADY_CLAIMED);
            assertThat(a.claim(key, 65_000)).as("the same gateway again").isEqualTo(SharedClaim.ALREADY_CLAIMED);
            assertThat(b.claim(randomKey(), 65_000)).isEqualTo(SharedClaim.CLAIMED);

            String redisKey = new String(RedisReplayStore.redisKey(key), StandardCharsets.US_ASCII);
            assertThat(redisKey).startsWith("certknock:replay:").hasSize("certknock:replay:".length() + 96);
            assertThat(redis.command("GET", redisKey)).as("who claimed it").isEqualTo("gw-a");
            long pttl = Long.parseLong(redis.command("PTTL", redisKey));
            assertThat(pttl).isBetween(60_000L, 65_000L);
            assertThat(redis.command("DBSIZE")).isEqualTo("2");

            // A short TTL: the key is gone after it, and can be claimed again (the local guard's window is over).
            ReplayKey brief = randomKey();
            assertThat(a.claim(brief, 50)).isEqualTo(SharedClaim.CLAIMED);
            Thread.sleep(120);
            assertThat(b.claim(brief, 50)).isEqualTo(SharedClaim.CLAIMED);
        }
    }

    @Test
    void startingWithRedisDownReturnsAtOnceAndFailsClosedUntilItAnswers() throws Exception {
        try (RedisServer redis = RedisServer.start(dir)) {
            redis.stop();
            RedisReplayStore s = assertTimeoutPreemptively(Duration.ofMillis(500), () -> store(redis.uri(), false, "gw"));
            try (s) {
                Thread.sleep(300); // a failed connection attempt or two
                long t0 = System.nanoTime();
                for (int i = 0; i < 100; i++) {
                    assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
                }
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("refused without waiting")
                        .isLessThan(DEADLINE);
                redis.restart();
                awaitAvailable(s);
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.CLAIMED);
            }
        }
        assertThat(messages(Level.WARN)).as("one WARN for the outage").hasSize(1);
        assertThat(messages(Level.INFO)).anySatisfy(m -> assertThat(m).contains("answers again").contains("knocks were refused"));
    }

    @Test
    void aStoppedRedisRefusesKnocksAndARestartedOneTakesThemAgain() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); RedisReplayStore s = store(redis.uri(), false, "gw")) {
            awaitAvailable(s);
            ReplayKey before = randomKey();
            assertThat(s.claim(before, 60_000)).isEqualTo(SharedClaim.CLAIMED);
            redis.stop();
            Await.until("the store to notice", Duration.ofSeconds(5), Duration.ofMillis(10), () -> !s.available());
            for (int i = 0; i < 50; i++) {
                long t0 = System.nanoTime();
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThanOrEqualTo(DEADLINE.plusMillis(150));
            }
            redis.restart(); // empty: --save '' (a restarted Redis without persistence forgot its keys, see D36)
            awaitAvailable(s);
            assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.CLAIMED);
            assertThat(s.refusedInOutage()).isZero();
        }
        assertThat(messages(Level.WARN)).hasSize(1).first().asString().contains("does not answer")
                .contains("REPLAY_STORE_UNAVAILABLE");
    }

    @Test
    void aHangingRedisCostsOneDeadlineThenKnocksAreRefusedAtOnceUntilItAnswers() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); RedisReplayStore s = store(redis.uri(), false, "gw")) {
            awaitAvailable(s);
            redis.pause(); // SIGSTOP: the connection stays open, nothing answers
            try {
                long t0 = System.nanoTime();
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
                Duration first = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(first).as("bounded by the deadline").isLessThan(DEADLINE.plusMillis(150));
                t0 = System.nanoTime();
                for (int i = 0; i < 100; i++) {
                    assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
                }
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("100 knocks after the first, without waiting")
                        .isLessThan(DEADLINE);
            } finally {
                redis.resume();
            }
            awaitAvailable(s);
            assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.CLAIMED);
        }
    }

    /**
     * The refusal at the deadline completes a claim only once the store is marked down, so whatever runs on it next
     * (the dispatcher's next knock, a synchronous caller's next claim) is refused at once. Completing first let the
     * next claim be sent and wait a deadline of its own (CI saw 100 claims take 110 ms instead of none); a callback on
     * the claim runs inside the completion, so this sees the order every time.
     */
    @Test
    void aRefusalAtTheDeadlineFindsTheStoreAlreadyMarkedDown() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); RedisReplayStore s = store(redis.uri(), false, "gw")) {
            awaitAvailable(s);
            redis.pause();
            try {
                java.util.concurrent.CompletableFuture<Boolean> availableWhenRefused =
                        s.claimAsync(randomKey(), 60_000).thenApply(answer -> {
                            assertThat(answer).isEqualTo(SharedClaim.UNAVAILABLE);
                            return s.available();
                        });
                assertThat(availableWhenRefused.get(5, java.util.concurrent.TimeUnit.SECONDS)).isFalse();
                long t0 = System.nanoTime();
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the next claim").isLessThan(DEADLINE.dividedBy(2));
            } finally {
                redis.resume();
            }
        }
    }

    @Test
    void manyConcurrentClaimsOfOneKeyFromTwoGatewaysWithoutWaitingGrantExactlyOnce() throws Exception {
        try (RedisServer redis = RedisServer.start(dir);
                RedisReplayStore a = store(redis.uri(), false, "gw-a");
                RedisReplayStore b = store(redis.uri(), false, "gw-b")) {
            awaitAvailable(a);
            awaitAvailable(b);
            for (int round = 0; round < 20; round++) {
                ReplayKey key = randomKey();
                List<java.util.concurrent.CompletableFuture<SharedClaim>> answers =
                        java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                List<Thread> threads = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    RedisReplayStore s = t % 2 == 0 ? a : b;
                    Thread thread = new Thread(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        for (int i = 0; i < 25; i++) {
                            answers.add(s.claimAsync(key, 60_000)); // none waits for its answer before the next
                        }
                    });
                    thread.start();
                    threads.add(thread);
                }
                go.countDown();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                assertThat(answers).hasSize(100);
                List<SharedClaim> settled = answers.stream()
                        .map(f -> f.orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).join()).toList();
                assertThat(settled).as("round %d", round).filteredOn(c -> c == SharedClaim.CLAIMED).hasSize(1);
                assertThat(settled).filteredOn(c -> c == SharedClaim.ALREADY_CLAIMED).hasSize(99);
            }
        }
    }

    @Test
    void claimsInFlightWhenRedisHangsAreAllRefusedWithinTheDeadline() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); RedisReplayStore s = store(redis.uri(), false, "gw")) {
            awaitAvailable(s);
            redis.pause(); // SIGSTOP: the store does not know yet, so these are sent and wait for an answer
            List<java.util.concurrent.CompletableFuture<SharedClaim>> inFlight = new java.util.ArrayList<>();
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < 200; i++) {
                    inFlight.add(s.claimAsync(randomKey(), 60_000));
                }
                Duration sending = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(sending).as("sending does not wait for answers").isLessThan(DEADLINE);
                java.util.concurrent.CompletableFuture.allOf(inFlight.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
                        .get(5, java.util.concurrent.TimeUnit.SECONDS);
                Duration settled = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(settled).as("every claim answered by the deadline (10 ms timer tick, CI slack)")
                        .isLessThan(DEADLINE.plusMillis(150));
                assertThat(inFlight).allSatisfy(f -> assertThat(f.join()).isEqualTo(SharedClaim.UNAVAILABLE));
                assertThat(s.claimAsync(randomKey(), 60_000)).as("refused at once during the outage")
                        .isCompletedWithValue(SharedClaim.UNAVAILABLE);
                assertThat(s.refusedInOutage()).isEqualTo(201);
            } finally {
                redis.resume();
            }
            awaitAvailable(s);
            assertThat(s.claimAsync(randomKey(), 60_000).get(5, java.util.concurrent.TimeUnit.SECONDS))
                    .isEqualTo(SharedClaim.CLAIMED);
            assertThat(messages(Level.WARN)).as("one WARN for the outage, not one per claim").hasSize(1);
        }
    }

    @Test
    void debugSleepIsAHangToo() throws Exception {
        String[] reply = new String[1];
        try (RedisServer redis = RedisServer.start(dir, "--enable-debug-command", "local");
                RedisReplayStore s = store(redis.uri(), false, "gw")) {
            awaitAvailable(s);
            Thread sleeper = new Thread(() -> {
                try {
                    reply[0] = redis.command("DEBUG", "SLEEP", "1");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            sleeper.start();
            Thread.sleep(100); // the sleep has begun
            long t0 = System.nanoTime();
            assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(DEADLINE.plusMillis(150));
            sleeper.join();
            assertThat(reply[0]).isEqualTo("OK");
            awaitAvailable(s);
            assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.CLAIMED);
        }
    }

    @Test
    void localOnlyDuringAnOutageGrantsWithOneWarning() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); RedisReplayStore s = store(redis.uri(), true, "gw")) {
            awaitAvailable(s);
            redis.stop();
            Await.until("the store to notice", Duration.ofSeconds(5), Duration.ofMillis(10), () -> !s.available());
            for (int i = 0; i < 20; i++) {
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.LOCAL_ONLY);
            }
        }
        assertThat(messages(Level.WARN)).hasSize(2)
                .anySatisfy(m -> assertThat(m).contains("local-only").contains("can be replayed at another gateway"));
    }

    @Test
    void thePasswordWorksAndIsNeverLogged() throws Exception {
        String password = "s3cret-Pa55word";
        try (RedisServer redis = RedisServer.start(dir, "--requirepass", password)) {
            String good = "redis://:" + password + "@127.0.0.1:" + redis.port() + "/0";
            try (RedisReplayStore s = store(good, false, "gw")) {
                assertThat(s.describe()).isEqualTo("redis://***@127.0.0.1:" + redis.port() + "/0");
                awaitAvailable(s);
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.CLAIMED);
            }
            String wrong = "redis://:" + password + "-not@127.0.0.1:" + redis.port();
            try (RedisReplayStore s = store(wrong, false, "gw")) {
                Thread.sleep(600);
                assertThat(s.available()).isFalse();
                assertThat(s.claim(randomKey(), 60_000)).isEqualTo(SharedClaim.UNAVAILABLE);
            }
        }
        assertThat(messages(Level.WARN)).anySatisfy(m -> assertThat(m).contains("does not answer"));
        assertThat(logs.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(password));
    }

    @Test
    void urisAreCheckedAndRedacted() {
        assertThat(RedisReplayStore.check("redis://127.0.0.1:6379/0")).isNull();
        assertThat(RedisReplayStore.check("rediss://:pw@redis.example.test:6380")).isNull();
        assertThat(RedisReplayStore.check("redis-sentinel://:pw@s1:26379,s2:26379/0#certknock")).isNull();
        assertThat(RedisReplayStore.check("redis-sentinel://s1:26379/0")).contains("names its master after '#'");
        assertThat(RedisReplayStore.check("http://:hunter22@x:6379")).contains("not http://***@x:6379")
                .doesNotContain("hunter22");
        assertThat(RedisReplayStore.check("localhost:6379")).contains("'local' or a Redis URI");
        assertThat(RedisReplayStore.redact("redis://user:hunter22@h:1/0")).isEqualTo("redis://***@h:1/0");
        assertThat(RedisReplayStore.redact("redis://h:1")).isEqualTo("redis://h:1");
    }
}
