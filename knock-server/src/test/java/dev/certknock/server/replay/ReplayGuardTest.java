package dev.certknock.server.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.testing.time.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReplayGuardTest {

    static final Duration WINDOW = Duration.ofSeconds(30);
    static final long KEEP = WINDOW.plus(ReplayGuard.MARGIN).toMillis();

    private final MutableClock clock = MutableClock.at(Instant.parse("2025-06-01T12:00:00.250Z"));
    private ReplayGuard guard = ReplayGuard.inMemory(WINDOW, 100, clock, clock.monotonic());

    @AfterEach
    void close() {
        guard.close();
    }

    /** Distinct keys for distinct n. */
    static ReplayKey key(int n) {
        byte[] nonce = ReplayKeyTest.bytes(16, 7);
        java.nio.ByteBuffer.wrap(nonce).putInt(n);
        return ReplayKey.of(ReplayKeyTest.bytes(32, n), nonce);
    }

    private long now() {
        return clock.millis();
    }

    @Test
    void seenIsALookUpThatNeverInserts() {
        assertThat(guard.seen(key(1))).isFalse();
        assertThat(guard.seen(key(1))).isFalse();
        assertThat(guard.size()).isZero();
    }

    @Test
    void theFirstCommitIsCommittedAndTheSecondIsAReplay() {
        CommitResult first = guard.commit(key(1), now());

        assertThat(first).isEqualTo(new CommitResult.Committed(now() + KEEP));
        assertThat(first.accepted()).isTrue();
        assertThat(guard.seen(key(1))).isTrue();
        assertThat(guard.seen(key(2))).isFalse();
        CommitResult again = guard.commit(key(1), now());
        assertThat(again).isInstanceOf(CommitResult.Replay.class);
        assertThat(again.accepted()).isFalse();
        assertThat(guard.size()).isEqualTo(1);
    }

    @Test
    void aReplayWithAnotherTimestampIsStillAReplay() {
        guard.commit(key(1), now());
        assertThat(guard.commit(key(1), now() - 10_000)).isInstanceOf(CommitResult.Replay.class);
        assertThat(guard.commit(key(1), now() + 10_000)).isInstanceOf(CommitResult.Replay.class);
    }

    @Test
    void sameNonceFromAnotherCertificateIsAnotherKnock() {
        byte[] nonce = ReplayKeyTest.bytes(16, 9);
        assertThat(guard.commit(ReplayKey.of(ReplayKeyTest.bytes(32, 1), nonce), now()).accepted()).isTrue();
        assertThat(guard.commit(ReplayKey.of(ReplayKeyTest.bytes(32, 2), nonce), now()).accepted()).isTrue();
    }

    @Test
    void anEntryIsKeptUntilTimestampPlusWindowPlusMarginThenExpires() {
        long timestamp = now() + 20_000; // a knock from a client whose clock is 20 s ahead
        guard.commit(key(1), timestamp);

        clock.advance(Duration.ofMillis(timestamp + KEEP - 1 - now()));
        assertThat(guard.seen(key(1))).isTrue();
        assertThat(guard.commit(key(1), timestamp)).isInstanceOf(CommitResult.Replay.class);

        clock.advance(Duration.ofMillis(1));
        assertThat(guard.seen(key(1))).isFalse();
        // The same packet again is now too old for the guard to vouch for: never committed twice.
        assertThat(guard.commit(key(1), timestamp)).isInstanceOf(CommitResult.OutsideWindow.class);
    }

    @Test
    void aKnockThatWaitedTooLongAfterTheTimestampStageIsOutsideTheWindow() {
        long timestamp = now();
        clock.advance(Duration.ofMillis(KEEP));
        assertThat(guard.commit(key(1), timestamp))
                .isEqualTo(new CommitResult.OutsideWindow(timestamp, now()));
        clock.advance(Duration.ofMillis(-1));
        assertThat(guard.commit(key(1), timestamp).accepted()).isTrue();
    }

    @Test
    void aTimestampTooFarInTheFutureIsOutsideTheWindow() {
        assertThat(guard.commit(key(1), now() + KEEP + 1)).isInstanceOf(CommitResult.OutsideWindow.class);
        assertThat(guard.commit(key(1), Long.MAX_VALUE)).isInstanceOf(CommitResult.OutsideWindow.class);
        assertThat(guard.commit(key(1), Long.MIN_VALUE)).isInstanceOf(CommitResult.OutsideWindow.class);
        assertThat(guard.commit(key(1), now() + KEEP).accepted()).isTrue();
        assertThat(guard.size()).isEqualTo(1);
    }

    @Test
    void expiredEntriesAreRemovedByLaterCommitsAndBySweep() {
        for (int i = 0; i < 50; i++) {
            guard.commit(key(i), now());
        }
        assertThat(guard.size()).isEqualTo(50);

        clock.advance(Duration.ofMillis(KEEP + 1000));
        guard.commit(key(1000), now());
        assertThat(guard.size()).isEqualTo(1);

        clock.advance(Duration.ofMillis(KEEP + 1000));
        guard.sweep();
        assertThat(guard.size()).isZero();
    }

    @Test
    void aSweepKeepsEntriesThatHaveNotExpired() {
        guard.commit(key(1), now() - 30_000); // expires in 5 s
        guard.commit(key(2), now() + 30_000); // expires in 65 s
        clock.advance(Duration.ofSeconds(6));
        guard.sweep();
        assertThat(guard.size()).isEqualTo(1);
        assertThat(guard.seen(key(2))).isTrue();
        clock.advance(Duration.ofSeconds(60));
        guard.sweep();
        assertThat(guard.size()).isZero();
    }

    @Test
    void atCapacityTheGuardFailsClosed() {
        ReplayGuard small = ReplayGuard.inMemory(WINDOW, 3, clock, clock.monotonic());
        for (int i = 0; i < 3; i++) {
            assertThat(small.commit(key(i), now()).accepted()).isTrue();
        }
        assertThat(small.commit(key(3), now())).isEqualTo(new CommitResult.Full(3));
        assertThat(small.seen(key(3))).isFalse();
        // A replay of a held key is still reported as a replay.
        assertThat(small.commit(key(0), now())).isInstanceOf(CommitResult.Replay.class);
        small.close();
    }

    @Test
    void expiredEntriesAreEvictedBeforeReportingFull() {
        ReplayGuard small = ReplayGuard.inMemory(WINDOW, 3, clock, clock.monotonic());
        small.commit(key(0), now() - 30_000); // expires 5 s from now
        small.commit(key(1), now());
        small.commit(key(2), now());
        // 5.1 s later key 0 has expired, but its one-second slot of the timing wheel has not ended.
        clock.advance(Duration.ofMillis(5_100));

        assertThat(small.commit(key(3), now()).accepted()).isTrue();
        assertThat(small.size()).isEqualTo(3);
        assertThat(small.commit(key(4), now())).isInstanceOf(CommitResult.Full.class);
        small.close();
    }

    @Test
    void expiredEntriesInEndedSlotsAreEvictedBeforeReportingFull() {
        ReplayGuard small = ReplayGuard.inMemory(WINDOW, 2, clock, clock.monotonic());
        small.commit(key(0), now());
        small.commit(key(1), now());
        clock.advance(Duration.ofMillis(KEEP + 2_000));
        assertThat(small.commit(key(2), now()).accepted()).isTrue();
        assertThat(small.commit(key(3), now()).accepted()).isTrue();
        assertThat(small.size()).isEqualTo(2);
        small.close();
    }

    @Test
    void aWallClockSteppedFarAheadPurgesNothingBeforeTheRealWindowHasPassed() {
        long start = now();
        for (int i = 0; i < 20; i++) {
            guard.commit(key(i), now() + i * 1000L);
        }
        // The wall clock jumps three days ahead (a bad NTP source, a VM resumed) while a second passes.
        clock.stepWall(Duration.ofDays(3));
        clock.advance(Duration.ofSeconds(1));
        guard.sweep();
        assertThat(guard.commit(key(100), now()).accepted()).isTrue();
        assertThat(guard.size()).as("nothing purged by the step").isEqualTo(21);
        // It is stepped back: the first knocks are within their window again, and still refused.
        clock.set(Instant.ofEpochMilli(start + 2_000));
        for (int i = 0; i < 20; i++) {
            assertThat(guard.seen(key(i))).as("key %d", i).isTrue();
            assertThat(guard.commit(key(i), start + i * 1000L)).isInstanceOf(CommitResult.Replay.class);
        }
        // Once real time has passed the window, they expire. Key 100 stays: its knock's timestamp is three
        // days ahead of the wall clock now, and would be inside the window again when the clock gets there.
        clock.advance(Duration.ofMillis(19_000 + KEEP));
        guard.sweep();
        assertThat(guard.size()).isEqualTo(1);
        assertThat(guard.seen(key(100))).isTrue();
    }

    @Test
    void aWallClockSteppedBackKeepsAnEntryUntilTheWallClockPassesItsExpiryAgain() {
        long timestamp = now();
        guard.commit(key(1), timestamp);
        clock.stepWall(Duration.ofSeconds(-20));
        clock.advance(Duration.ofMillis(KEEP + 5_000)); // real time: past the knock's window and margin
        guard.sweep();
        assertThat(now()).as("the wall clock: still inside").isLessThan(timestamp + KEEP);
        assertThat(guard.seen(key(1))).isTrue();
        assertThat(guard.commit(key(1), timestamp)).isInstanceOf(CommitResult.Replay.class);
        clock.advance(Duration.ofMillis(timestamp + KEEP - 1 - now()));
        assertThat(guard.seen(key(1))).isTrue();
        clock.advance(Duration.ofMillis(1));
        assertThat(guard.seen(key(1))).isFalse();
        clock.advance(Duration.ofSeconds(2));
        guard.sweep();
        assertThat(guard.size()).isZero();
        assertThat(guard.wheelKeyCountForTest()).isZero();
    }

    @Test
    void manyEntriesOverTimeAreAllExpiredAndTheWheelEmpties() {
        ReplayGuard big = ReplayGuard.inMemory(WINDOW, 10_000, clock, clock.monotonic());
        List<ReplayKey> keys = new ArrayList<>();
        for (int second = 0; second < 200; second++) {
            for (int j = 0; j < 20; j++) {
                ReplayKey k = key(second * 100 + j);
                keys.add(k);
                long skew = (j % 7 - 3) * 9_000L; // clients up to 27 s behind or ahead
                assertThat(big.commit(k, now() + skew).accepted()).isTrue();
            }
            clock.advance(Duration.ofSeconds(1));
        }
        // Only entries whose timestamp is within the last window + margin (plus skew) remain.
        assertThat(big.size()).isLessThanOrEqualTo(20 * (2 * (int) (KEEP / 1000) + 2));
        clock.advance(Duration.ofMillis(2 * KEEP));
        big.sweep();
        assertThat(big.size()).isZero();
        assertThat(big.wheelKeyCountForTest()).isZero();
        big.close();
    }

    @Test
    void argumentsAreChecked() {
        assertThatThrownBy(() -> ReplayGuard.inMemory(Duration.ZERO, 10, clock, clock.monotonic()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
        assertThatThrownBy(() -> ReplayGuard.inMemory(Duration.ofDays(2), 10, clock, clock.monotonic()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
        assertThatThrownBy(() -> ReplayGuard.inMemory(WINDOW, 0, clock, clock.monotonic()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity");
        assertThatThrownBy(() -> guard.commit(null, now())).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aClosedGuardRefusesWork() {
        guard.close();
        guard.close();
        assertThatThrownBy(() -> guard.commit(key(1), now())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> guard.seen(key(1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aLongWindowUsesWiderSlotsAndStillExpiresOnTime() {
        ReplayGuard day = ReplayGuard.inMemory(Duration.ofDays(1), 100, clock, clock.monotonic());
        long keep = Duration.ofDays(1).plus(ReplayGuard.MARGIN).toMillis();
        day.commit(key(1), now());
        clock.advance(Duration.ofMillis(keep - 1));
        assertThat(day.seen(key(1))).isTrue();
        clock.advance(Duration.ofMillis(1));
        assertThat(day.seen(key(1))).isFalse();
        clock.advance(Duration.ofHours(1));
        day.sweep();
        assertThat(day.size()).isZero();
        day.close();
    }
}
