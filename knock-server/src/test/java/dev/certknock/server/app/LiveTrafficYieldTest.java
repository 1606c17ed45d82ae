package dev.certknock.server.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.server.dispatch.KnockDispatcher;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.Outcome;
import dev.certknock.server.pipeline.Stage;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The background rehearsal's yielding, against a real live dispatcher whose one worker the test holds or lets go. */
class LiveTrafficYieldTest {

    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean hold;
    private final KnockDispatcher live = new KnockDispatcher(new KnockPipeline(List.of(new Stage() {
        @Override
        public Outcome apply(dev.certknock.server.pipeline.KnockContext context) {
            if (hold) {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Outcome.drop(DropReason.TRUNCATED, "test");
        }
    }), new KnockCounters(), Clock.systemUTC()), new KnockCounters(), 16, 1);

    @AfterEach
    void stop() {
        release.countDown();
        live.close();
    }

    private static ReceivedDatagram datagram(int n) {
        return ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("192.0.2." + n, 40000), Instant.now());
    }

    @Test
    void aQuietServerLetsASliceThroughAtOnce() throws Exception {
        LiveTrafficYield y = new LiveTrafficYield(live, Duration.ofSeconds(5), Duration.ofSeconds(10));
        long t0 = System.nanoTime();
        y.await(() -> false);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        assertThat(y.slices()).isEqualTo(1);
        assertThat(y.pauses()).isZero();
    }

    @Test
    void itWaitsWhileALiveDatagramIsHandledOrQueued_andGoesOnOnceTheyAreDone() throws Exception {
        hold = true;
        LiveTrafficYield y = new LiveTrafficYield(live, Duration.ofMillis(50), Duration.ofSeconds(30));
        assertThat(live.offer(datagram(1))).isTrue();
        assertThat(live.offer(datagram(2))).isTrue();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch through = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                y.await(() -> false);
                through.countDown();
            } catch (InterruptedException | RuntimeException e) {
                failed.set(e);
            }
        });
        t.start();
        assertThat(through.await(500, TimeUnit.MILLISECONDS)).as("let through while the live worker was busy").isFalse();
        assertThat(y.slices()).isZero();
        assertThat(y.waited()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        long released = System.nanoTime();
        hold = false;
        release.countDown();
        assertThat(through.await(10, TimeUnit.SECONDS)).as("let through once the live datagrams were done").isTrue();
        // both live datagrams were handled, then the quiet time passed
        assertThat(Duration.ofNanos(System.nanoTime() - released)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        assertThat(live.taken()).isEqualTo(2);
        assertThat(failed.get()).isNull();
        assertThat(y.slices()).isEqualTo(1);
        assertThat(y.pauses()).isEqualTo(1);
        t.join(2000);
    }

    @Test
    void aLiveDatagramJustHandledStillCostsTheWholeQuietTime() throws Exception {
        LiveTrafficYield y = new LiveTrafficYield(live, Duration.ofMillis(200), Duration.ofSeconds(30));
        assertThat(live.offer(datagram(1))).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (live.taken() < 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        long taken = System.nanoTime();
        y.await(() -> false);
        assertThat(Duration.ofNanos(System.nanoTime() - taken)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(y.pauses()).isEqualTo(1);
    }

    @Test
    void itGivesUpAfterItsBoundAndStopsWhenTold() throws Exception {
        hold = true;
        assertThat(live.offer(datagram(1))).isTrue();
        LiveTrafficYield bounded = new LiveTrafficYield(live, Duration.ofMillis(20), Duration.ofMillis(100));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> bounded.await(() -> false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("live knocks kept the server busy");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(100), Duration.ofSeconds(5));
        assertThat(bounded.slices()).isZero();

        LiveTrafficYield stopped = new LiveTrafficYield(live, Duration.ofMillis(20), Duration.ofSeconds(30));
        assertThatThrownBy(() -> stopped.await(() -> true)).isInstanceOf(InterruptedException.class);
    }

    @Test
    void withoutALiveServerNothingWaits() throws Exception {
        LiveTrafficYield y = LiveTrafficYield.to(null);
        for (int i = 0; i < 3; i++) {
            y.await(() -> false);
        }
        assertThat(y.slices()).isEqualTo(3);
        assertThat(y.waited()).isEqualTo(Duration.ZERO);
    }
}
