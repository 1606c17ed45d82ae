package dev.certknock.server.replay;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * Run in a separate JVM by {@link ReplayGuardAbruptStopTest}: opens a guard on a journal, commits keys
 * {@code first .. first + count - 1} (as {@link ReplayGuardTest#key}) and then stops without closing the
 * guard, either by {@code Runtime.halt} (no shutdown hooks, no finalisation) or by waiting to be killed
 * with SIGKILL.
 *
 * <p>Arguments: journal path, clock epoch millis, first key, count, {@code halt} or {@code wait}.
 */
public final class JournalWriterMain {

    static final String READY = "replay-writer-committed ";

    private JournalWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        Path journal = Path.of(args[0]);
        long now = Long.parseLong(args[1]);
        int first = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        String mode = args[4];
        Clock clock = Clock.fixed(Instant.ofEpochMilli(now), ZoneOffset.UTC);
        ReplayGuard guard = ReplayGuard.open(journal, Duration.ofSeconds(30), 100_000, clock);
        int committed = 0;
        for (int i = first; i < first + count; i++) {
            if (guard.commit(ReplayGuardTest.key(i), now).accepted()) {
                committed++;
            }
        }
        System.out.println(READY + committed);
        System.out.flush();
        if (mode.equals("halt")) {
            Runtime.getRuntime().halt(0);
        }
        Thread.sleep(Long.MAX_VALUE); // until SIGKILL
    }
}
