package dev.certknock.server.replay;

import static dev.certknock.server.replay.ReplayGuardTest.key;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.time.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayGuardConcurrencyTest {

    private static final int THREADS = 8;
    private static final Duration WINDOW = Duration.ofSeconds(30);

    private final MutableClock clock = MutableClock.at(Instant.parse("2025-06-01T12:00:00Z"));
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private List<CommitResult> raceOnOneKey(ReplayGuard guard, ReplayKey key) throws Exception {
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Future<CommitResult>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            futures.add(pool.submit(() -> {
                start.await(10, TimeUnit.SECONDS);
                guard.seen(key); // look-ups race with the commits too
                return guard.commit(key, clock.millis());
            }));
        }
        List<CommitResult> results = new ArrayList<>();
        for (Future<CommitResult> f : futures) {
            results.add(f.get(30, TimeUnit.SECONDS));
        }
        return results;
    }

    @Test
    void ofThreadsCommittingOneKeyExactlyOneIsCommitted() throws Exception {
        try (ReplayGuard guard = ReplayGuard.inMemory(WINDOW, 10_000, clock, clock.monotonic())) {
            for (int round = 0; round < 300; round++) {
                List<CommitResult> results = raceOnOneKey(guard, key(round));
                assertThat(results).as("round %d", round).filteredOn(CommitResult::accepted).hasSize(1);
                assertThat(results).filteredOn(r -> r instanceof CommitResult.Replay).hasSize(THREADS - 1);
            }
            assertThat(guard.size()).isEqualTo(300);
        }
    }

    @Test
    void withAJournalExactlyOneIsCommittedAndOneRecordWritten() throws Exception {
        Path journal = dir.resolve("replay.journal");
        try (ReplayGuard guard = ReplayGuard.open(journal, WINDOW, 10_000, clock, clock.monotonic())) {
            for (int round = 0; round < 100; round++) {
                assertThat(raceOnOneKey(guard, key(round))).filteredOn(CommitResult::accepted).hasSize(1);
            }
            assertThat(guard.journalRecords()).isEqualTo(100);
        }
        try (ReplayGuard reopened = ReplayGuard.open(journal, WINDOW, 10_000, clock, clock.monotonic())) {
            assertThat(reopened.size()).isEqualTo(100);
            assertThat(reopened.commit(key(42), clock.millis())).isInstanceOf(CommitResult.Replay.class);
        }
    }

    @Test
    void threadsCommittingDistinctKeysAreAllCommitted() throws Exception {
        int perThread = 2_000;
        try (ReplayGuard guard = ReplayGuard.open(dir.resolve("j"), WINDOW, THREADS * perThread, clock, clock.monotonic())) {
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int base = t * perThread;
                Callable<Integer> task = () -> {
                    start.await(10, TimeUnit.SECONDS);
                    int committed = 0;
                    for (int i = 0; i < perThread; i++) {
                        if (guard.commit(key(base + i), clock.millis()).accepted()) {
                            committed++;
                        }
                    }
                    return committed;
                };
                futures.add(pool.submit(task));
            }
            for (Future<Integer> f : futures) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(perThread);
            }
            assertThat(guard.size()).isEqualTo(THREADS * perThread);
            // Now full: one more is refused, from any thread.
            assertThat(guard.commit(key(-1), clock.millis())).isInstanceOf(CommitResult.Full.class);
            for (int i = 0; i < THREADS * perThread; i += 997) {
                assertThat(guard.seen(key(i))).isTrue();
            }
        }
    }
}
