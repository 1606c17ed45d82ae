package dev.certknock.server.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Verdict;
import dev.certknock.server.pipeline.KnockContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 12: the refused datagrams kept for verify stay within their bounds, 0600, and a flood is not written. */
class RefusedKeeperTest {

    @TempDir
    Path tmp;

    /** A clock that moves one second per reading: the rate limit never bites. */
    private final AtomicLong nanos = new AtomicLong();

    private Path dir() {
        return tmp.resolve("state/refused");
    }

    private static void drop(RefusedKeeper keeper, byte[] datagram, Instant at) throws Exception {
        InetSocketAddress from = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 40000);
        KnockContext ctx = new KnockContext(ReceivedDatagram.of(datagram, from, at), at);
        keeper.dropped(new Verdict.Dropped(from, DropReason.TIMESTAMP_TOO_OLD, "timestamp before the window", "TimestampWindow"), ctx);
    }

    private List<Path> kept() throws Exception {
        try (Stream<Path> s = Files.list(dir())) {
            return s.filter(p -> p.getFileName().toString().endsWith(".knock")).sorted().toList();
        }
    }

    private static byte[] datagram(int n, int size) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) n);
        return b;
    }

    @Test
    void theLastCountAreKeptWithSidecarsAll0600() throws Exception {
        Instant t0 = Instant.parse("2026-11-22T10:00:00Z");
        try (RefusedKeeper keeper = RefusedKeeper.start(new RefusedKeeper.Settings(dir(), 3, 1 << 20, 100),
                () -> nanos.addAndGet(1_000_000_000L))) {
            for (int i = 0; i < 10; i++) {
                drop(keeper, datagram(i, 100), t0.plusMillis(i));
            }
            assertThat(keeper.awaitIdle(10_000)).isTrue();
            assertThat(keeper.written()).isEqualTo(10);
        }
        List<Path> kept = kept();
        assertThat(kept).hasSize(3);
        // the newest three, oldest first by name
        for (int i = 0; i < 3; i++) {
            assertThat(Files.readAllBytes(kept.get(i))).isEqualTo(datagram(7 + i, 100));
            assertThat(kept.get(i).getFileName().toString()).startsWith("refused-20261122T10000000" + (7 + i) + "Z-")
                    .endsWith("-TIMESTAMP_TOO_OLD.knock");
            Path sidecar = kept.get(i).resolveSibling(kept.get(i).getFileName() + ".txt");
            assertThat(Files.readString(sidecar)).contains("source 198.51.100.7\n").contains("reason TIMESTAMP_TOO_OLD\n")
                    .contains("received 2026-11-22T10:00:00.00" + (7 + i) + "Z\n")
                    .contains("verify knock-server verify --config CONFIG --source 198.51.100.7 --at packet " + kept.get(i));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kept.get(i)))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sidecar))).isEqualTo("rw-------");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir()))).isEqualTo("rwx------");
        try (Stream<Path> s = Files.list(dir())) {
            assertThat(s.count()).as("three pairs, no temporary files").isEqualTo(6);
        }
    }

    @Test
    void theTotalBytesStayWithinMaxBytes() throws Exception {
        long maxBytes = 64 * 1024;
        try (RefusedKeeper keeper = RefusedKeeper.start(new RefusedKeeper.Settings(dir(), 100, maxBytes, 100),
                () -> nanos.addAndGet(1_000_000_000L))) {
            for (int i = 0; i < 8; i++) {
                drop(keeper, datagram(i, 20_000), Instant.parse("2026-11-22T10:00:00Z").plusSeconds(i));
            }
            assertThat(keeper.awaitIdle(10_000)).isTrue();
        }
        long total;
        try (Stream<Path> s = Files.list(dir())) {
            total = s.mapToLong(p -> p.toFile().length()).sum();
        }
        assertThat(total).isLessThanOrEqualTo(maxBytes).isGreaterThan(40_000);
        assertThat(kept()).hasSize(3);
        assertThat(Files.readAllBytes(kept().get(2))).isEqualTo(datagram(7, 20_000));
    }

    @Test
    void aFloodIsCountedNotWritten() throws Exception {
        // time stands still: the bucket holds perSecond tokens and gets no more
        try (RefusedKeeper keeper = RefusedKeeper.start(new RefusedKeeper.Settings(dir(), 1000, 1 << 24, 10), () -> 0L)) {
            for (int i = 0; i < 10_000; i++) {
                drop(keeper, datagram(i, 64), Instant.parse("2026-11-22T10:00:00Z"));
            }
            assertThat(keeper.awaitIdle(10_000)).isTrue();
            assertThat(keeper.written()).isEqualTo(10);
            assertThat(keeper.rateLimited()).isEqualTo(9_990);
            assertThat(keeper.queueFull()).isZero();
        }
        assertThat(kept()).hasSize(10);
    }

    @Test
    void anEarlierRunsFilesCountAndOthersAreLeftAlone() throws Exception {
        try (RefusedKeeper keeper = RefusedKeeper.start(new RefusedKeeper.Settings(dir(), 5, 1 << 20, 100),
                () -> nanos.addAndGet(1_000_000_000L))) {
            for (int i = 0; i < 5; i++) {
                drop(keeper, datagram(i, 10), Instant.parse("2026-11-22T10:00:00Z").plusSeconds(i));
            }
            assertThat(keeper.awaitIdle(10_000)).isTrue();
        }
        Files.writeString(dir().resolve("notes.txt"), "the operator's own file");
        Files.writeString(dir().resolve(".keep-123.tmp"), "left by a crash");
        try (RefusedKeeper keeper = RefusedKeeper.start(new RefusedKeeper.Settings(dir(), 2, 1 << 20, 100),
                () -> nanos.addAndGet(1_000_000_000L))) {
            assertThat(kept()).as("trimmed to the new count at start").hasSize(2);
            drop(keeper, datagram(9, 10), Instant.parse("2026-11-22T11:00:00Z"));
            assertThat(keeper.awaitIdle(10_000)).isTrue();
        }
        List<Path> kept = kept();
        assertThat(kept).hasSize(2);
        assertThat(Files.readAllBytes(kept.get(0))).isEqualTo(datagram(4, 10));
        assertThat(Files.readAllBytes(kept.get(1))).isEqualTo(datagram(9, 10));
        assertThat(dir().resolve("notes.txt")).exists();
        assertThat(dir().resolve(".keep-123.tmp")).doesNotExist();
    }
}
