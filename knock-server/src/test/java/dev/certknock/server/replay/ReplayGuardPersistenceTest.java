package dev.certknock.server.replay;

import static dev.certknock.server.replay.ReplayGuardTest.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.testing.time.MutableClock;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayGuardPersistenceTest {

    static final Duration WINDOW = Duration.ofSeconds(30);
    static final long KEEP = WINDOW.plus(ReplayGuard.MARGIN).toMillis();
    static final int HEADER = ReplayJournal.HEADER_SIZE;
    static final int RECORD = ReplayJournal.RECORD_SIZE;

    private final MutableClock clock = MutableClock.at(Instant.parse("2025-06-01T12:00:00Z"));

    @TempDir
    Path dir;

    private Path journal() {
        return dir.resolve("state").resolve("replay.journal");
    }

    private ReplayGuard open() throws IOException {
        return ReplayGuard.open(journal(), WINDOW, 1000, clock, clock.monotonic());
    }

    private long now() {
        return clock.millis();
    }

    @Test
    void aCommittedKeyIsAReplayAfterCloseAndReopen() throws IOException {
        try (ReplayGuard guard = open()) {
            assertThat(guard.commit(key(1), now()).accepted()).isTrue();
            assertThat(guard.commit(key(2), now() - 20_000).accepted()).isTrue();
            assertThat(guard.journalPath()).contains(journal().toAbsolutePath());
        }
        assertThat(Files.size(journal())).isEqualTo(HEADER + 2L * RECORD);
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(2, 0, 0, 0));
            assertThat(guard.seen(key(1))).isTrue();
            assertThat(guard.commit(key(1), now())).isInstanceOf(CommitResult.Replay.class);
            assertThat(guard.commit(key(2), now() - 20_000)).isInstanceOf(CommitResult.Replay.class);
            assertThat(guard.commit(key(3), now()).accepted()).isTrue();
        }
    }

    @Test
    void theLoadedExpiryIsTheOneCommitted() throws IOException {
        try (ReplayGuard guard = open()) {
            guard.commit(key(1), now() - 20_000); // expires 15 s from now
        }
        clock.advance(Duration.ofSeconds(14));
        try (ReplayGuard guard = open()) {
            assertThat(guard.seen(key(1))).isTrue();
            clock.advance(Duration.ofSeconds(1));
            assertThat(guard.seen(key(1))).isFalse();
        }
    }

    @Test
    void aCommitNeverWaitsForAForceTheSweepForcesOutsideTheLock() throws Exception {
        try (ReplayGuard guard = open()) {
            // Well past the second after which the guard used to force on the knock's own path.
            Thread.sleep(1_100);
            assertThat(guard.commit(key(1), now()).accepted()).isTrue();
            assertThat(guard.journalUnforced()).as("commit left the force to the sweep").isTrue();
            guard.sweep();
            assertThat(guard.journalUnforced()).isFalse();
            assertThat(guard.commit(key(2), now()).accepted()).isTrue();
            assertThat(guard.journalUnforced()).isTrue();
        }
        // close() forces what is left, and both records are there at the next start
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport().liveEntries()).isEqualTo(2);
        }
    }

    @Test
    void aSweepWhileAnotherThreadCommitsLosesNothing() throws Exception {
        try (ReplayGuard guard = open()) {
            Thread sweeper = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    guard.sweep();
                }
            });
            sweeper.start();
            for (int i = 1; i <= 900; i++) {
                assertThat(guard.commit(key(i), now()).accepted()).isTrue();
            }
            sweeper.join();
        }
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport().liveEntries()).isEqualTo(900);
            assertThat(guard.seen(key(900))).isTrue();
        }
    }

    @Test
    void aCommitIsOnDiskWhenItReturnsWithoutClose() throws IOException {
        ReplayGuard guard = open();
        try {
            assertThat(guard.commit(key(1), now()).accepted()).isTrue();
            // What a process killed right now would leave: the file as the OS has it.
            Path copy = dir.resolve("copy.journal");
            Files.copy(journal(), copy);
            try (ReplayGuard after = ReplayGuard.open(copy, WINDOW, 1000, clock, clock.monotonic())) {
                assertThat(after.commit(key(1), now())).isInstanceOf(CommitResult.Replay.class);
            }
        } finally {
            guard.close();
        }
    }

    @Test
    void aSecondGuardOnTheSameJournalIsRefused() throws IOException {
        try (ReplayGuard guard = open()) {
            assertThatThrownBy(this::open).isInstanceOf(ReplayJournalException.class)
                    .hasMessageContaining(journal().toAbsolutePath().toString())
                    .hasMessageContaining("in use by another knock server");
            assertThat(guard.commit(key(1), now()).accepted()).isTrue();
        }
        try (ReplayGuard again = open()) {
            assertThat(again.size()).isEqualTo(1);
        }
    }

    @Test
    void aTruncatedTrailingRecordIsIgnored() throws IOException {
        try (ReplayGuard guard = open()) {
            for (int i = 0; i < 3; i++) {
                guard.commit(key(i), now());
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(journal().toFile(), "rw")) {
            f.setLength(f.length() - 10); // a crash in the middle of writing the third record
        }
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(2, 0, 0, RECORD - 10));
            assertThat(guard.size()).isEqualTo(2);
            // The journal was rewritten whole, so new records line up again.
            assertThat(Files.size(journal())).isEqualTo(HEADER + 2L * RECORD);
            assertThat(guard.commit(key(2), now()).accepted()).isTrue();
            assertThat(guard.commit(key(3), now()).accepted()).isTrue();
        }
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(4, 0, 0, 0));
        }
    }

    @Test
    void aCorruptRecordIsSkippedAndCounted() throws IOException {
        try (ReplayGuard guard = open()) {
            for (int i = 0; i < 3; i++) {
                guard.commit(key(i), now());
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(journal().toFile(), "rw")) {
            long expiryOfSecond = HEADER + RECORD + ReplayKey.ENCODED_SIZE;
            f.seek(expiryOfSecond);
            f.writeLong(Long.MAX_VALUE); // a flipped expiry must not make an entry immortal
        }
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(2, 0, 1, 0));
            assertThat(guard.commit(key(0), now())).isInstanceOf(CommitResult.Replay.class);
            assertThat(guard.commit(key(2), now())).isInstanceOf(CommitResult.Replay.class);
        }
    }

    @Test
    void expiredEntriesAreNotLoadedAndTheJournalShrinks() throws IOException {
        try (ReplayGuard guard = open()) {
            guard.commit(key(1), now() - 30_000); // expires 5 s from now
            guard.commit(key(2), now() + 30_000); // expires 65 s from now
        }
        clock.advance(Duration.ofSeconds(5));
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(1, 1, 0, 0));
            assertThat(guard.seen(key(1))).isFalse();
            assertThat(guard.seen(key(2))).isTrue();
            assertThat(Files.size(journal())).isEqualTo(HEADER + RECORD);
        }
        clock.advance(Duration.ofMinutes(5));
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(0, 1, 0, 0));
            assertThat(guard.size()).isZero();
            assertThat(Files.size(journal())).isEqualTo(HEADER);
        }
    }

    @Test
    void theJournalIsCompactedWhenItHoldsTwiceTheLiveEntries() throws IOException {
        try (ReplayGuard big = ReplayGuard.open(dir.resolve("big"), WINDOW, 10_000, clock, clock.monotonic())) {
            for (int i = 0; i < 1500; i++) {
                big.commit(key(i), now() - 30_000); // expire 5 s from now
            }
            for (int i = 1500; i < 2100; i++) {
                big.commit(key(i), now()); // expire 35 s from now
            }
            assertThat(big.journalRecords()).isEqualTo(2100);
            clock.advance(Duration.ofSeconds(7));

            assertThat(big.commit(key(5000), now()).accepted()).isTrue();

            assertThat(big.size()).isEqualTo(601);
            assertThat(big.journalRecords()).isEqualTo(601);
            assertThat(Files.size(dir.resolve("big"))).isEqualTo(HEADER + 601L * RECORD);
            assertThat(big.commit(key(5001), now()).accepted()).isTrue();
            assertThat(Files.size(dir.resolve("big"))).isEqualTo(HEADER + 602L * RECORD);
        }
        try (ReplayGuard big = ReplayGuard.open(dir.resolve("big"), WINDOW, 10_000, clock, clock.monotonic())) {
            assertThat(big.journalLoadReport()).isEqualTo(new JournalLoadReport(602, 0, 0, 0));
            for (int i = 1500; i < 2100; i++) {
                assertThat(big.commit(key(i), now())).isInstanceOf(CommitResult.Replay.class);
            }
            // An expired, compacted-away entry: its knock is too old to be committed again.
            assertThat(big.commit(key(0), now() - 37_000)).isInstanceOf(CommitResult.OutsideWindow.class);
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(f -> dev.certknock.io.AtomicFile.isTemporaryFor(f, "big"))).isEmpty();
        }
    }

    @Test
    void aSmallJournalIsNotCompactedOnEveryCommit() throws IOException {
        try (ReplayGuard guard = open()) {
            guard.commit(key(1), now() - 30_000);
            clock.advance(Duration.ofSeconds(7));
            guard.commit(key(2), now());
            assertThat(guard.size()).isEqualTo(1);
            assertThat(guard.journalRecords()).isEqualTo(2);
        }
    }

    @Test
    void allLiveEntriesAreLoadedEvenBeyondALowerCapacity() throws IOException {
        try (ReplayGuard guard = ReplayGuard.open(journal(), WINDOW, 10, clock, clock.monotonic())) {
            for (int i = 0; i < 10; i++) {
                guard.commit(key(i), now());
            }
        }
        try (ReplayGuard guard = ReplayGuard.open(journal(), WINDOW, 5, clock, clock.monotonic())) {
            assertThat(guard.size()).isEqualTo(10);
            assertThat(guard.commit(key(9), now())).isInstanceOf(CommitResult.Replay.class);
            assertThat(guard.commit(key(10), now())).isEqualTo(new CommitResult.Full(5));
        }
    }

    @Test
    void aFileThatIsNotAJournalIsRefusedAndLeftAlone() throws IOException {
        Files.createDirectories(journal().getParent());
        byte[] content = "port: 62201\nserver: gw1\n".getBytes(StandardCharsets.UTF_8);
        Files.write(journal(), content);

        assertThatThrownBy(this::open).isInstanceOf(ReplayJournalException.class)
                .hasMessageContaining(journal().toAbsolutePath().toString())
                .hasMessageContaining("not a certknock replay journal")
                .hasMessageContaining("replay-state path")
                .satisfies(e -> assertThat(((ReplayJournalException) e).path()).isEqualTo(journal().toAbsolutePath()));
        assertThat(Files.readAllBytes(journal())).isEqualTo(content);
        // The refused guard released its lock: a good file opens afterwards.
        Files.delete(journal());
        open().close();
    }

    @Test
    void aFileTooShortForAHeaderIsRefused() throws IOException {
        Files.createDirectories(journal().getParent());
        Files.write(journal(), new byte[] {'C', 'K', 'R'});
        assertThatThrownBy(this::open).isInstanceOf(ReplayJournalException.class)
                .hasMessageContaining("not a certknock replay journal");
    }

    @Test
    void anotherVersionIsRefusedWithBothVersions() throws IOException {
        Files.createDirectories(journal().getParent());
        Files.write(journal(), ByteBuffer.allocate(HEADER).put(ReplayJournal.MAGIC).putInt(2).putInt(RECORD).array());
        assertThatThrownBy(this::open).isInstanceOf(ReplayJournalException.class)
                .hasMessageContaining("version 2").hasMessageContaining("reads version 1");
    }

    @Test
    void aZeroLengthJournalAfterEntriesWereWrittenIsRefusedAtStartWithHowToFix() throws IOException {
        try (ReplayGuard guard = open()) {
            assertThat(guard.commit(key(1), now()).accepted()).isTrue();
        }
        // Something truncates the journal while the server is stopped: key(1) is forgotten.
        try (RandomAccessFile f = new RandomAccessFile(journal().toFile(), "rw")) {
            f.setLength(0);
        }
        assertThatThrownBy(this::open).isInstanceOf(ReplayJournalException.class)
                .hasMessageContaining(journal().toAbsolutePath().toString())
                .hasMessageContaining("empty (0 bytes)")
                .hasMessageContaining("truncated")
                .hasMessageContaining("delete the file");
        assertThat(Files.size(journal())).as("the refused journal is left as it was").isZero();
        // The operator follows the advice: with the file gone the server starts a new journal.
        Files.delete(journal());
        try (ReplayGuard guard = open()) {
            assertThat(guard.size()).isZero();
            assertThat(Files.size(journal())).isEqualTo(HEADER);
            byte[] header = Files.readAllBytes(journal());
            assertThat(new String(header, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("CKREPLAY");
        }
    }

    @Test
    void aNewJournalStartsWithItsHeaderSoItIsNeverZeroLength() throws IOException {
        open().close();
        assertThat(Files.size(journal())).isEqualTo(HEADER);
    }

    @Test
    void whenTheJournalCannotBeWrittenNothingIsCommittedAndTheJournalIsRewrittenAfterwards() throws IOException {
        try (ReplayGuard guard = open()) {
            guard.commit(key(1), now());
            guard.journalForTest().close(); // every write now fails

            assertThatThrownBy(() -> guard.commit(key(2), now())).isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessageContaining("must be dropped").hasMessageContaining(journal().toAbsolutePath().toString());
            assertThat(guard.seen(key(2))).isFalse();
            assertThat(guard.size()).isEqualTo(1);

            // The next commit rewrites the journal from memory, then records as usual.
            assertThat(guard.commit(key(3), now()).accepted()).isTrue();
            assertThat(guard.commit(key(1), now())).isInstanceOf(CommitResult.Replay.class);
        }
        try (ReplayGuard guard = open()) {
            assertThat(guard.journalLoadReport()).isEqualTo(new JournalLoadReport(2, 0, 0, 0));
            assertThat(guard.seen(key(1))).isTrue();
            assertThat(guard.seen(key(3))).isTrue();
            assertThat(guard.seen(key(2))).isFalse();
        }
    }
}
