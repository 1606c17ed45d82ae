package dev.certknock.server.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The liveness check's rules, on vitals set by hand (the live threads are exercised by SystemdNotifyTest). */
class LivenessTest {

    private static final long S = 1_000_000_000L;
    private final AtomicReference<Liveness.Vitals> vitals = new AtomicReference<>();
    private final Liveness liveness = new Liveness(vitals::get, Duration.ofSeconds(5));

    /** At {@code now} s: capture and housekeeping came round 0.5 s ago, all workers idle, queue empty. */
    private static Liveness.Vitals healthy(long now, long taken) {
        return new Liveness.Vitals(now * S, now * S - S / 2, now * S - S / 2, 0, 0, 0, taken);
    }

    private Liveness.Health at(Liveness.Vitals v) {
        vitals.set(v);
        return liveness.check();
    }

    private static String reason(Liveness.Health h) {
        assertThat(h).isInstanceOf(Liveness.Stalled.class);
        return ((Liveness.Stalled) h).reason();
    }

    @Test
    void aServerThatMakesProgressIsAlive() {
        assertThat(at(healthy(100, 0))).isEqualTo(new Liveness.Alive());
        assertThat(at(healthy(200, 7))).isEqualTo(new Liveness.Alive());
    }

    @Test
    void aCaptureThreadThatStoppedComingRoundIsAStall() {
        Liveness.Vitals v = healthy(100, 0);
        assertThat(at(new Liveness.Vitals(v.nanoNow(), v.nanoNow() - 4 * S, v.housekeepingTurn(), 0, 0, 0, 0)))
                .isEqualTo(new Liveness.Alive());
        assertThat(reason(at(new Liveness.Vitals(v.nanoNow(), v.nanoNow() - 6 * S, v.housekeepingTurn(), 0, 0, 0, 0))))
                .isEqualTo("capture thread has not come round its loop for 6.0 s");
    }

    @Test
    void periodicThreadsGetAtLeastTwoSecondsHoweverSmallTheBound() {
        Liveness tight = new Liveness(vitals::get, Duration.ofMillis(500));
        vitals.set(new Liveness.Vitals(100 * S, 100 * S - S * 3 / 2, 100 * S - S, 0, 0, 0, 0));
        assertThat(tight.check()).isEqualTo(new Liveness.Alive());
        vitals.set(new Liveness.Vitals(100 * S, 100 * S, 100 * S - S * 5 / 2, 0, 0, 0, 0));
        assertThat(reason(tight.check())).startsWith("housekeeping has not finished a run for 2.5 s");
    }

    @Test
    void aWorkerOnOneKnockBeyondTheBoundIsAStallUntilItLetsGo() {
        Liveness.Vitals v = healthy(100, 3);
        assertThat(at(new Liveness.Vitals(v.nanoNow(), v.captureTurn(), v.housekeepingTurn(), 5 * S, 0, 0, 3)))
                .isEqualTo(new Liveness.Alive());
        assertThat(reason(at(new Liveness.Vitals(v.nanoNow(), v.captureTurn(), v.housekeepingTurn(), 5 * S + 1, 0, 0, 3))))
                .isEqualTo("a worker has been on one knock for 5.0 s");
        assertThat(at(healthy(101, 4))).isEqualTo(new Liveness.Alive());
    }

    @Test
    void aDeadWorkerIsAStall() {
        Liveness.Vitals v = healthy(100, 0);
        assertThat(reason(at(new Liveness.Vitals(v.nanoNow(), v.captureTurn(), v.housekeepingTurn(), 0, 1, 0, 0))))
                .isEqualTo("1 worker thread(s) ended");
    }

    @Test
    void aQueueThatDoesNotDrainIsAStallButAQueueThatMovesIsNot() {
        // Datagrams queued from 100 s; the workers keep taking them: alive however long the queue stays non-empty.
        for (long t = 100; t <= 120; t++) {
            Liveness.Vitals v = healthy(t, t);
            assertThat(at(new Liveness.Vitals(v.nanoNow(), v.captureTurn(), v.housekeepingTurn(), 0, 0, 50, t)))
                    .as("at %d s", t).isEqualTo(new Liveness.Alive());
        }
        // Then nothing is taken while 50 wait: alive up to the bound, a stall after it.
        for (long t = 121; t <= 125; t++) {
            Liveness.Vitals v = healthy(t, 120);
            assertThat(at(new Liveness.Vitals(v.nanoNow(), v.captureTurn(), v.housekeepingTurn(), 0, 0, 50, 120)))
                    .as("at %d s", t).isEqualTo(new Liveness.Alive());
        }
        Liveness.Vitals v = healthy(126, 120);
        assertThat(reason(at(new Liveness.Vitals(v.nanoNow(), v.captureTurn(), v.housekeepingTurn(), 0, 0, 50, 120))))
                .isEqualTo("50 datagram(s) queued and none taken for 6.0 s");
        // An empty queue is no stall, however long since the last datagram was taken.
        assertThat(at(healthy(200, 120))).isEqualTo(new Liveness.Alive());
    }
}
