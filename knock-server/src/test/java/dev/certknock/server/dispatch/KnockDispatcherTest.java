package dev.certknock.server.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.Outcome;
import dev.certknock.server.pipeline.PublicKeyBudget;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.pipeline.SourceRateLimit;
import dev.certknock.server.pipeline.Stage;
import dev.certknock.server.ratelimit.SourceKey;
import dev.certknock.server.ratelimit.SourceRateLimiter;
import dev.certknock.server.ratelimit.TokenBucket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class KnockDispatcherTest {

    private static ReceivedDatagram datagram() {
        return ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("192.0.2.1", 1), Instant.EPOCH);
    }

    @Test
    void aFullQueueDropsAndCountsWithoutBlockingTheCapture() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger processed = new AtomicInteger();
        Stage slow = ctx -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            processed.incrementAndGet();
            return Outcome.drop(DropReason.TRUNCATED, "test");
        };
        KnockCounters counters = new KnockCounters();
        KnockPipeline pipeline = new KnockPipeline(List.of(slow), counters, Clock.systemUTC());
        try (KnockDispatcher d = new KnockDispatcher(pipeline, counters, 4, 1)) {
            long start = System.nanoTime();
            int accepted = 0;
            for (int i = 0; i < 100; i++) {
                if (d.offer(datagram())) {
                    accepted++;
                }
            }
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            // One datagram may be taken by the worker, four wait in the queue; the rest are dropped at once.
            assertThat(accepted).isBetween(4, 5);
            assertThat(counters.dropped(DropReason.QUEUE_FULL)).isEqualTo(100 - accepted);
            assertThat(elapsedMs).as("offer never waited for the worker").isLessThan(5_000);
            release.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (processed.get() < accepted && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(processed.get()).isEqualTo(accepted);
        }
    }

    @Test
    void aBacklogOf200JunkSourcesNeitherKeepsOutNorStarvesACleanSource() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<InetSocketAddress> served = java.util.Collections.synchronizedList(new ArrayList<>());
        InetSocketAddress alice = new InetSocketAddress("198.51.100.7", 40000);
        Stage recording = ctx -> {
            try {
                release.await(30, TimeUnit.SECONDS); // the worker is busy until the backlog is in place
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            served.add(ctx.source());
            return Outcome.drop(DropReason.DECRYPTION_FAILED, "test");
        };
        KnockCounters counters = new KnockCounters();
        KnockPipeline pipeline = new KnockPipeline(List.of(recording), counters, Clock.systemUTC());
        int capacity = 1024;
        try (KnockDispatcher d = new KnockDispatcher(pipeline, counters, capacity, 1)) {
            d.offer(ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("192.0.2.1", 1), Instant.EPOCH));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (d.queued() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5); // until the worker holds that first datagram
            }
            for (int round = 0; round < 20; round++) {
                for (int s = 0; s < 200; s++) {
                    d.offer(ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("203.0." + (s / 100) + "." + (s % 100), 9),
                            Instant.EPOCH));
                }
            }
            assertThat(d.queued()).isEqualTo(capacity);
            assertThat(d.offer(ReceivedDatagram.of(new byte[] {1}, alice, Instant.EPOCH))).as("alice's knock queued").isTrue();
            release.countDown();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!served.contains(alice) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            List<InetSocketAddress> seen;
            synchronized (served) { // the worker keeps adding while we look: read a copy
                seen = new ArrayList<>(served);
            }
            assertThat(seen).contains(alice);
            // The first datagram, then at most one from each of the 200 junk sources, then alice's.
            assertThat(seen.indexOf(alice)).isLessThanOrEqualTo(201);
        }
        assertThat(counters.dropped(DropReason.QUEUE_FULL)).as("every datagram not queued or pushed out is counted")
                .isEqualTo(200 * 20 + 1 - capacity);
    }

    @Test
    void aNewSourcesKnockIsServedBeforeABacklogFromSourcesThatKeepFailing() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<InetSocketAddress> served = java.util.Collections.synchronizedList(new ArrayList<>());
        InetSocketAddress alice = new InetSocketAddress("198.51.100.7", 40000);
        Stage recording = ctx -> {
            try {
                release.await(30, TimeUnit.SECONDS); // the worker is busy until the backlog is in place
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            served.add(ctx.source());
            return Outcome.drop(DropReason.DECRYPTION_FAILED, "test");
        };
        SourceRateLimiter limiter = new SourceRateLimiter(5, 10, 1000, () -> 0L); // no time passes
        List<InetSocketAddress> junk = new ArrayList<>();
        for (int s = 0; s < 200; s++) {
            InetSocketAddress source = new InetSocketAddress("203.0." + (s / 100) + "." + (s % 100), 9);
            junk.add(source);
            for (int i = 0; i < 10; i++) {
                limiter.charge(source.getAddress()); // its datagrams failed decryption ten times
            }
        }
        KnockCounters counters = new KnockCounters();
        KnockPipeline pipeline = new KnockPipeline(List.of(new SourceRateLimit(limiter), recording), counters,
                Clock.systemUTC());
        try (KnockDispatcher d = new KnockDispatcher(pipeline, counters, 4096, 1)) {
            d.offer(ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("192.0.2.1", 1), Instant.EPOCH));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (d.queued() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5); // until the worker holds that first datagram
            }
            for (int round = 0; round < 20; round++) {
                for (InetSocketAddress source : junk) {
                    d.offer(ReceivedDatagram.of(new byte[] {1}, source, Instant.EPOCH));
                }
            }
            assertThat(d.queued()).as("a penalised source queues at most its small share")
                    .isEqualTo(200 * KnockDispatcher.PENALISED_SHARE);
            assertThat(d.offer(ReceivedDatagram.of(new byte[] {1}, alice, Instant.EPOCH))).isTrue();
            release.countDown();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!served.contains(alice) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            List<InetSocketAddress> seen;
            synchronized (served) {
                seen = new ArrayList<>(served);
            }
            assertThat(seen.indexOf(alice)).as("served right after the datagram the worker held").isEqualTo(1);
        }
        assertThat(counters.dropped(DropReason.QUEUE_FULL)).isEqualTo(200 * (20 - KnockDispatcher.PENALISED_SHARE));
    }

    @Test
    void sourcesAreTieredByTheStandingThePipelineKeeps() throws Exception {
        AtomicLong now = new AtomicLong();
        SourceRateLimiter limiter = new SourceRateLimiter(5, 10, 100, now::get);
        TokenBucket budgetBucket = new TokenBucket(100, 100, now::get); // reserve 50
        PublicKeyBudget budget = new PublicKeyBudget(budgetBucket);
        FairQueue.Tiering<SourceKey> tiers = KnockDispatcher.tiering(List.of(new SourceRateLimit(limiter), budget),
                now::get);
        InetAddress a = InetAddress.getByName("192.0.2.1");
        SourceKey key = SourceKey.of(a);
        assertThat(tiers.tiers()).isEqualTo(4);
        assertThat(tiers.tierOf(key)).as("never seen").isEqualTo(1);
        limiter.charge(a);
        assertThat(tiers.tierOf(key)).as("charged recently").isEqualTo(2);
        for (int i = 0; i < 9; i++) {
            limiter.charge(a);
        }
        assertThat(tiers.tierOf(key)).as("out of failures").isEqualTo(3);
        limiter.verified(a);
        assertThat(tiers.tierOf(key)).as("a verified knock does not lift bad standing").isEqualTo(3);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(200)); // one failure back
        assertThat(tiers.tierOf(key)).as("verified recently, failures to spare").isEqualTo(0);
        assertThat(tiers.share(0)).isEqualTo(Integer.MAX_VALUE);
        assertThat(tiers.share(1)).isEqualTo(Integer.MAX_VALUE);
        assertThat(tiers.share(2)).isEqualTo(KnockDispatcher.PENALISED_SHARE);
        assertThat(tiers.share(3)).isEqualTo(KnockDispatcher.PENALISED_SHARE);
        // Penalised tiers: half the budget's 100 a second, a burst of 1.
        assertThat(tiers.mayServe(2)).isTrue();
        assertThat(tiers.mayServe(3)).isTrue();
        tiers.served(3);
        assertThat(tiers.mayServe(2)).isFalse();
        assertThat(tiers.mayServe(3)).isFalse();
        assertThat(tiers.mayServe(0)).isTrue();
        assertThat(tiers.mayServe(1)).isTrue();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(40)); // 50 a second: the burst of 1 is back
        assertThat(tiers.mayServe(2)).isTrue();
        // The budget near its reserve: no spare for sources out of failures; those charged recently, in
        // good standing, still draw on the whole budget.
        assertThat(budgetBucket.tryAcquire(45)).isTrue();
        assertThat(tiers.mayServe(3)).isFalse();
        assertThat(tiers.mayServe(2)).isTrue();
    }

    @Test
    void withoutTheRateStagesThereIsOneTier() {
        FairQueue.Tiering<SourceKey> none = KnockDispatcher.tiering(List.of(), () -> 0L);
        assertThat(none.tiers()).isEqualTo(1);
        FairQueue.Tiering<SourceKey> noBudget = KnockDispatcher.tiering(
                List.of(new SourceRateLimit(new SourceRateLimiter(5, 10, 100, () -> 0L))), () -> 0L);
        assertThat(noBudget.tiers()).isEqualTo(4);
        assertThat(noBudget.mayServe(3)).as("nothing to gate on").isTrue();
    }

    @Test
    void aStageThatThrowsIsCountedAndTheWorkerLivesOn() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Stage buggy = ctx -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("bug");
            }
            return Outcome.drop(DropReason.TRUNCATED, "test");
        };
        KnockCounters counters = new KnockCounters();
        AtomicInteger errors = new AtomicInteger();
        KnockEventListener events = KnockEventListener.composite(List.of(counters, new KnockEventListener() {
            @Override
            public void internalError(String where, Throwable error) {
                errors.incrementAndGet();
            }
        }));
        KnockPipeline pipeline = new KnockPipeline(List.of(buggy), events, Clock.systemUTC());
        try (KnockDispatcher d = new KnockDispatcher(pipeline, counters, 16, 1)) {
            d.offer(datagram());
            d.offer(datagram());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (counters.dropped(DropReason.TRUNCATED) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        assertThat(counters.dropped(DropReason.INTERNAL_ERROR)).isEqualTo(1);
        assertThat(counters.dropped(DropReason.TRUNCATED)).isEqualTo(1);
        assertThat(errors.get()).isEqualTo(1);
    }

    @Test
    void aReplacedPipelineTakesTheNextDatagramsAndMustShareTheThrottles() throws Exception {
        SourceRateLimit limit = new SourceRateLimit(new SourceRateLimiter(5, 10, 64, System::nanoTime));
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        Stage one = ctx -> {
            first.incrementAndGet();
            return Outcome.drop(DropReason.TRUNCATED, "test");
        };
        Stage two = ctx -> {
            second.incrementAndGet();
            return Outcome.drop(DropReason.TRUNCATED, "test");
        };
        KnockCounters counters = new KnockCounters();
        try (KnockDispatcher d = new KnockDispatcher(new KnockPipeline(List.of(limit, one), counters, Clock.systemUTC()),
                counters, 16, 1)) {
            d.offer(datagram());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (first.get() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            d.replace(new KnockPipeline(List.of(limit, two), counters, Clock.systemUTC()));
            d.offer(datagram());
            while (second.get() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(first.get()).isEqualTo(1);
            assertThat(second.get()).isEqualTo(1);
            SourceRateLimit other = new SourceRateLimit(new SourceRateLimiter(5, 10, 64, System::nanoTime));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.replace(new KnockPipeline(List.of(other, two),
                    counters, Clock.systemUTC()))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("throttles");
        }
    }

    private static ReceivedDatagram from(int n) {
        return ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("10.0." + (n >> 8 & 0xff) + "." + (n & 0xff), 1),
                Instant.EPOCH);
    }

    /**
     * A stage whose decision for the sources in {@code pending} waits for the test (a replay store's claim, as
     * ReplayCommit answers it), then a last stage that records which knocks got past it (where the grant would be).
     */
    private static List<Stage> pendingThenRecord(java.util.Map<InetSocketAddress, java.util.concurrent.CompletableFuture<Outcome>> pending,
            java.util.Map<InetSocketAddress, String> passed) {
        Stage claim = ctx -> {
            java.util.concurrent.CompletableFuture<Outcome> f = pending.get(ctx.source());
            return f == null ? Outcome.CONTINUE : new Outcome.Pending(f);
        };
        Stage record = ctx -> {
            passed.put(ctx.source(), Thread.currentThread().getName());
            return Outcome.drop(DropReason.TRUNCATED, "recorded");
        };
        return List.of(claim, record);
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void aKnockWaitingForItsClaimDoesNotHoldTheWorkerAndGoesOnOnlyWhenTheAnswerCame() throws Exception {
        var pending = new java.util.concurrent.ConcurrentHashMap<InetSocketAddress, java.util.concurrent.CompletableFuture<Outcome>>();
        var passed = new java.util.concurrent.ConcurrentHashMap<InetSocketAddress, String>();
        ReceivedDatagram waiting = from(1);
        ReceivedDatagram other = from(2);
        ReceivedDatagram refused = from(3);
        var answer = new java.util.concurrent.CompletableFuture<Outcome>();
        var refusal = new java.util.concurrent.CompletableFuture<Outcome>();
        pending.put(waiting.source(), answer);
        pending.put(refused.source(), refusal);
        KnockCounters counters = new KnockCounters();
        KnockPipeline pipeline = new KnockPipeline(pendingThenRecord(pending, passed), counters, Clock.systemUTC());
        try (KnockDispatcher d = new KnockDispatcher(pipeline, counters, 16, 1)) {
            assertThat(d.offer(waiting)).isTrue();
            assertThat(d.offer(other)).isTrue();
            await("the one worker to finish the second knock", () -> passed.containsKey(other.source()));
            assertThat(passed).as("no grant before the answer").doesNotContainKey(waiting.source());
            assertThat(d.resuming()).isEqualTo(1);
            assertThat(d.longestBusyNanos(System.nanoTime())).as("the worker is free").isZero();

            answer.complete(Outcome.CONTINUE);
            await("the waiting knock to go on", () -> passed.containsKey(waiting.source()));
            assertThat(passed.get(waiting.source())).as("on a worker, not on the answer's thread")
                    .isEqualTo("knock-worker-0");

            assertThat(d.offer(refused)).isTrue();
            await("the third knock to wait", () -> d.resuming() == 1);
            refusal.complete(Outcome.drop(DropReason.REPLAY_STORE_UNAVAILABLE, "test"));
            await("the refusal to be counted", () -> counters.dropped(DropReason.REPLAY_STORE_UNAVAILABLE) == 1);
            assertThat(passed).as("a refused claim never reaches the grant").doesNotContainKey(refused.source());
            await("nothing left waiting", () -> d.resuming() == 0);
        }
    }

    @Test
    void atMostMaxResumingKnocksWaitThenTheWorkerWaitsItself() throws Exception {
        var pending = new java.util.concurrent.ConcurrentHashMap<InetSocketAddress, java.util.concurrent.CompletableFuture<Outcome>>();
        var passed = new java.util.concurrent.ConcurrentHashMap<InetSocketAddress, String>();
        int n = KnockDispatcher.MAX_RESUMING + 2;
        List<ReceivedDatagram> knocks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ReceivedDatagram k = from(i);
            knocks.add(k);
            pending.put(k.source(), new java.util.concurrent.CompletableFuture<>());
        }
        KnockCounters counters = new KnockCounters();
        KnockPipeline pipeline = new KnockPipeline(pendingThenRecord(pending, passed), counters, Clock.systemUTC());
        try (KnockDispatcher d = new KnockDispatcher(pipeline, counters, 2 * n, 1)) {
            for (ReceivedDatagram k : knocks) {
                assertThat(d.offer(k)).isTrue();
            }
            await("the bound to fill", () -> d.resuming() == KnockDispatcher.MAX_RESUMING);
            await("the worker to wait for the next knock's answer itself",
                    () -> d.longestBusyNanos(System.nanoTime()) > TimeUnit.MILLISECONDS.toNanos(50));
            assertThat(d.resuming()).isEqualTo(KnockDispatcher.MAX_RESUMING);
            assertThat(d.queued()).as("the last knock still queued").isEqualTo(1);
            assertThat(passed).isEmpty();
            pending.values().forEach(f -> f.complete(Outcome.CONTINUE));
            await("every knock to go on", () -> passed.size() == n);
            await("nothing left waiting", () -> d.resuming() == 0);
        }
    }

    @Test
    void withoutAResumerThePipelineWaitsForThePendingDecisionAndAFailedOneIsADrop() throws Exception {
        var pending = new java.util.concurrent.ConcurrentHashMap<InetSocketAddress, java.util.concurrent.CompletableFuture<Outcome>>();
        var passed = new java.util.concurrent.ConcurrentHashMap<InetSocketAddress, String>();
        ReceivedDatagram late = from(1);
        ReceivedDatagram broken = from(2);
        var answer = new java.util.concurrent.CompletableFuture<Outcome>();
        pending.put(late.source(), answer);
        pending.put(broken.source(), java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("x")));
        KnockCounters counters = new KnockCounters();
        KnockPipeline pipeline = new KnockPipeline(pendingThenRecord(pending, passed), counters, Clock.systemUTC());
        new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            answer.complete(Outcome.CONTINUE);
        }).start();
        long t0 = System.nanoTime();
        assertThat(pipeline.process(late)).isNotNull();
        assertThat(System.nanoTime() - t0).as("waited for the answer").isGreaterThan(TimeUnit.MILLISECONDS.toNanos(90));
        assertThat(passed).containsKey(late.source());
        assertThat(pipeline.process(broken)).isInstanceOfSatisfying(dev.certknock.server.knock.Verdict.Dropped.class,
                v -> assertThat(v.reason()).isEqualTo(DropReason.INTERNAL_ERROR));
        assertThat(passed).doesNotContainKey(broken.source());
    }
}
