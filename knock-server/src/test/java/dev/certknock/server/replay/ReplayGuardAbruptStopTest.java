package dev.certknock.server.replay;

import static dev.certknock.server.replay.ReplayGuardTest.key;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.time.MutableClock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays stay rejected after the server process dies without closing the guard: a separate JVM
 * commits keys and then halts, or is killed with SIGKILL, and this JVM opens the journal it left.
 */
class ReplayGuardAbruptStopTest {

    private static final Duration WINDOW = Duration.ofSeconds(30);

    private final MutableClock clock = MutableClock.at(Instant.parse("2025-06-01T12:00:00Z"));

    @TempDir
    Path dir;

    /** Starts the writer; returns once it has committed, with the process still alive or halting. */
    private Process startWriter(Path journal, int first, int count, String mode, List<String> output)
            throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                JournalWriterMain.class.getName(), journal.toString(), Long.toString(clock.millis()),
                Integer.toString(first), Integer.toString(count), mode)
                .redirectErrorStream(true)
                .start();
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                output.add(line);
                if (line.startsWith(JournalWriterMain.READY)) {
                    break;
                }
            }
        }
        return process;
    }

    private static void awaitDeath(Process process, List<String> output) throws InterruptedException {
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("writer ended; its output: %s", output).isTrue();
    }

    @Test
    void keysCommittedBeforeRuntimeHaltAreReplaysAfterwards() throws Exception {
        Path journal = dir.resolve("replay.journal");
        List<String> output = new ArrayList<>();
        Process writer = startWriter(journal, 0, 500, "halt", output);
        awaitDeath(writer, output);

        assertThat(output).as("writer output").contains(JournalWriterMain.READY + 500);
        assertThat(writer.exitValue()).isZero();
        try (ReplayGuard guard = ReplayGuard.open(journal, WINDOW, 100_000, clock, clock.monotonic())) {
            assertThat(guard.journalLoadReport().liveEntries()).isEqualTo(500);
            for (int i = 0; i < 500; i++) {
                assertThat(guard.commit(key(i), clock.millis())).as("key %d", i)
                        .isInstanceOf(CommitResult.Replay.class);
            }
            assertThat(guard.commit(key(500), clock.millis()).accepted()).isTrue();
        }
    }

    @Test
    void keysCommittedBeforeSigkillAreReplaysAfterwardsAndTheLockIsReleased() throws Exception {
        Path journal = dir.resolve("replay.journal");
        try (ReplayGuard first = ReplayGuard.open(journal, WINDOW, 100_000, clock, clock.monotonic())) {
            first.commit(key(1_000_000), clock.millis()); // an entry from an earlier run
        }
        List<String> output = new ArrayList<>();
        Process writer = startWriter(journal, 0, 300, "wait", output);
        try {
            assertThat(output).as("writer output").contains(JournalWriterMain.READY + 300);
            assertThat(writer.isAlive()).isTrue();
        } finally {
            writer.destroyForcibly(); // SIGKILL on Linux and macOS
            awaitDeath(writer, output);
        }

        assertThat(writer.exitValue()).isNotZero();
        try (ReplayGuard guard = ReplayGuard.open(journal, WINDOW, 100_000, clock, clock.monotonic())) {
            assertThat(guard.journalLoadReport().liveEntries()).isEqualTo(301);
            assertThat(guard.commit(key(1_000_000), clock.millis())).isInstanceOf(CommitResult.Replay.class);
            for (int i = 0; i < 300; i++) {
                assertThat(guard.seen(key(i))).as("key %d", i).isTrue();
                assertThat(guard.commit(key(i), clock.millis())).isInstanceOf(CommitResult.Replay.class);
            }
        }
    }
}
