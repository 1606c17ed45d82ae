package dev.certknock.server.reload;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The reload thread: work off the requesting thread, requests during a reload coalesced into one more. */
class ReloadThreadTest {

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(10), Duration.ofMillis(5), condition);
    }

    @Test
    void requestsDuringAReloadCostOneMoreReloadNotOneEach() throws Exception {
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ReloadThread t = new ReloadThread(() -> {
            threads.add(Thread.currentThread().getName());
            if (runs.incrementAndGet() == 1) {
                inFirst.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new ReloadResult.Applied(Instant.EPOCH, List.of());
        })) {
            t.request();
            assertThat(inFirst.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 50; i++) {
                t.request(); // a burst of SIGHUPs while the first reload runs
            }
            release.countDown();
            await("the coalesced reload", () -> t.runs() == 2);
            Thread.sleep(200);
            assertThat(runs.get()).isEqualTo(2);
            assertThat(t.runs()).isEqualTo(2);
            assertThat(threads).containsOnly("knock-reload");
            assertThat(t.last()).isInstanceOf(ReloadResult.Applied.class);

            t.request();
            await("a later request", () -> t.runs() == 3);
        }
    }

    @Test
    void aReloadThatThrowsDoesNotEndTheThread() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        try (ReloadThread t = new ReloadThread(() -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("a bug");
            }
            return new ReloadResult.Refused(Instant.EPOCH, "bad file");
        })) {
            t.request();
            await("the failing reload", () -> t.runs() == 1);
            t.request();
            await("the next reload", () -> t.runs() == 2);
            assertThat(t.last()).isEqualTo(new ReloadResult.Refused(Instant.EPOCH, "bad file"));
        }
    }
}
