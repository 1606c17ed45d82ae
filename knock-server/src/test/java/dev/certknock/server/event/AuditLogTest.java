package dev.certknock.server.event;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.Verdict;
import dev.certknock.testing.time.MutableClock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The audit log against real broken targets: a file whose writes fail (a symbolic link to /dev/full, so
 * every write gets ENOSPC, as on a full disk), a path that has become a directory, a parent directory
 * replaced by a file, a FIFO whose reader went away. (Permissions cannot break a file for root, who runs
 * the CI.)
 */
class AuditLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DEV_FULL = Path.of("/dev/full");

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-11-22T10:00:00Z"));
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger auditLogger = (Logger) LoggerFactory.getLogger(AuditLog.class);
    private Level savedLevel;

    @TempDir
    Path dir;

    @BeforeEach
    void captureLogs() {
        savedLevel = auditLogger.getLevel();
        // The test configuration's root level is WARN: see the INFO and DEBUG lines too.
        auditLogger.setLevel(Level.DEBUG);
        logs.start();
        auditLogger.addAppender(logs);
    }

    @AfterEach
    void restoreLogs() {
        auditLogger.detachAppender(logs);
        auditLogger.setLevel(savedLevel);
    }

    private static void junk(AuditLog audit, int n) {
        for (int i = 0; i < n; i++) {
            audit.dropped(new Verdict.Dropped(new InetSocketAddress("203.0.113." + (i % 250 + 1), 4000 + i),
                    DropReason.DECRYPTION_FAILED, "HPKE open failed", "hpke-open"), null);
        }
    }

    private List<ILoggingEvent> at(Level level) {
        return logs.list.stream().filter(e -> e.getLevel() == level).toList();
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            out.add(JSON.readTree(line)); // every line is whole JSON, or this throws
        }
        return out;
    }

    @Test
    void aFailingFileWarnsOnceCountsTheLostLinesAndInformsWhenWritingWorksAgain() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        Files.createSymbolicLink(file, DEV_FULL);
        try (AuditLog audit = AuditLog.open(file, clock, clock.monotonic(), 1000)) {
            junk(audit, 50);
            assertThat(at(Level.WARN)).as("one WARN for 50 failed writes").hasSize(1);
            assertThat(at(Level.WARN).get(0).getFormattedMessage()).contains(file.toString()).contains("No space left");
            assertThat(at(Level.ERROR)).isEmpty();
            assertThat(at(Level.INFO)).isEmpty();
            assertThat(audit.lostLines()).isEqualTo(50);
            assertThat(audit.failing()).isTrue();

            // The path becomes a directory: reopening fails too, still without a WARN.
            Files.delete(file);
            Files.createDirectory(file);
            junk(audit, 30);
            assertThat(at(Level.WARN)).hasSize(1);
            assertThat(audit.lostLines()).isEqualTo(80);

            // Writable again: the next line reopens the file, and one INFO says how many were lost.
            Files.delete(file);
            audit.crlFailed("https://crl.example.test/ca.crl", "timeout");
            junk(audit, 3);
            assertThat(audit.failing()).isFalse();
            assertThat(audit.lostLines()).isEqualTo(80);
            assertThat(at(Level.WARN)).hasSize(1);
            assertThat(at(Level.INFO)).hasSize(1);
            assertThat(at(Level.INFO).get(0).getFormattedMessage()).contains(file.toString()).contains("80 lines were lost");
            assertThat(Files.isRegularFile(file)).isTrue();
            List<JsonNode> written = lines(file);
            assertThat(written).hasSize(4);
            assertThat(written.get(0).get("event").asText()).isEqualTo("crl-failed");
            assertThat(written.get(3).get("reason").asText()).isEqualTo("DECRYPTION_FAILED");
        }
        assertThat(logs.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.ERROR));
    }

    /**
     * The path is a FIFO read by a log shipper: when the shipper goes away, writes fail (EPIPE); when it
     * comes back, they work again. Each outage warns once and each recovery informs once, and a failing
     * log never reopens the FIFO (with no reader, that open would block every thread that logs).
     */
    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifoWhoseReaderLeavesAndComesBackWarnsOncePerOutageAndNeverBlocks() throws Exception {
        Path fifo = dir.resolve("audit.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).isZero();
        // Opening a FIFO waits for the other end: the first shipper opens it from another thread.
        CompletableFuture<String> firstShipper = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader r = Files.newBufferedReader(fifo)) {
                return r.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (AuditLog audit = AuditLog.open(fifo, clock, clock.monotonic(), 1000)) {
            junk(audit, 1);
            assertThat(JSON.readTree(firstShipper.get(20, TimeUnit.SECONDS)).get("event").asText()).isEqualTo("dropped");

            junk(audit, 4); // the shipper is gone: EPIPE
            assertThat(at(Level.WARN)).hasSize(1);
            assertThat(at(Level.WARN).get(0).getFormattedMessage()).contains("Broken pipe");
            assertThat(audit.lostLines()).isEqualTo(4);

            // A new shipper: the log still holds the FIFO open, so this open does not wait.
            try (BufferedReader secondShipper = Files.newBufferedReader(fifo)) {
                audit.crlFailed("file:/etc/certknock/ca.crl", "unreadable");
                assertThat(JSON.readTree(secondShipper.readLine()).get("event").asText()).isEqualTo("crl-failed");
                assertThat(audit.failing()).isFalse();
                assertThat(at(Level.INFO)).hasSize(1);
                assertThat(at(Level.INFO).get(0).getFormattedMessage()).contains("4 lines were lost");
            }

            junk(audit, 2); // gone again: a second outage, a second WARN
            assertThat(at(Level.WARN)).hasSize(2);
            assertThat(audit.lostLines()).isEqualTo(6);

            // The FIFO replaced by nothing: the path is reopened as a regular file.
            Files.delete(fifo);
            junk(audit, 1);
            assertThat(at(Level.INFO)).hasSize(2);
            assertThat(at(Level.INFO).get(1).getFormattedMessage()).contains("2 lines were lost");
            assertThat(Files.isRegularFile(fifo)).isTrue();
            assertThat(lines(fifo)).hasSize(1);
        }
        assertThat(at(Level.WARN)).hasSize(2);
        assertThat(at(Level.ERROR)).isEmpty();
    }

    @Test
    void theParentDirectoryReplacedByAFileIsAnOutageToo() throws Exception {
        Path logs = dir.resolve("log");
        Path file = logs.resolve("audit.jsonl");
        Files.createDirectories(logs);
        Files.createSymbolicLink(file, DEV_FULL);
        try (AuditLog audit = AuditLog.open(file, clock, clock.monotonic(), 1000)) {
            junk(audit, 2);
            Files.delete(file);
            Files.delete(logs);
            Files.writeString(logs, "not a directory");
            junk(audit, 10);
            assertThat(audit.lostLines()).isEqualTo(12);
            assertThat(at(Level.WARN)).hasSize(1);
            assertThat(at(Level.INFO)).isEmpty();

            Files.delete(logs);
            Files.createDirectory(logs);
            junk(audit, 1);
            assertThat(at(Level.INFO)).hasSize(1);
            assertThat(lines(file)).hasSize(1);
        }
    }

    @Test
    void aFileEndingInTheMiddleOfALineGetsANewlineBeforeTheNextLine() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        Files.writeString(file, "{\"event\":\"accepted\"}\n{\"event\":\"drop");
        try (AuditLog audit = AuditLog.open(file, clock, clock.monotonic(), 1000)) {
            junk(audit, 1);
        }
        List<String> raw = Files.readAllLines(file);
        assertThat(raw).hasSize(3);
        assertThat(raw.get(1)).isEqualTo("{\"event\":\"drop");
        assertThat(JSON.readTree(raw.get(2)).get("event").asText()).isEqualTo("dropped");
        assertThat(logs.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.INFO));
    }

    @Test
    void linesAfterCloseAreNotWrittenAndNotReopened() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        AuditLog audit = AuditLog.open(file, clock, clock.monotonic(), 1000);
        junk(audit, 2);
        audit.close();
        junk(audit, 2);
        audit.close();
        assertThat(lines(file)).hasSize(2);
        assertThat(logs.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.INFO));
    }

    @Test
    void dropLinesAreLimitedPerSecondAndTheRestCountedInTheNextLine() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        try (AuditLog audit = AuditLog.open(file, clock, clock.monotonic())) {
            junk(audit, 25);
            clock.advance(java.time.Duration.ofSeconds(1));
            junk(audit, 1);
        }
        List<JsonNode> written = lines(file);
        assertThat(written).hasSize(21);
        assertThat(written.get(20).get("suppressed").asLong()).isEqualTo(5);
        assertThat(written.get(0).has("suppressed")).isFalse();
    }

    @Test
    void wallClockStepsNeitherSilenceNorUnleashDropLines() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        try (AuditLog audit = AuditLog.open(file, clock, clock.monotonic())) {
            for (int i = 0; i < 25; i++) {
                // an NTP step back and forth between drops: each one starts a new wall-clock second
                clock.stepWall(java.time.Duration.ofSeconds(i % 2 == 0 ? 5 : -5));
                junk(audit, 1);
            }
            clock.advanceMonotonic(java.time.Duration.ofSeconds(1));
            junk(audit, 1);
        }
        List<JsonNode> written = lines(file);
        assertThat(written).hasSize(21);
        assertThat(written.get(20).get("suppressed").asLong()).isEqualTo(5);
    }
}
