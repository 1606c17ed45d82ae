package dev.certknock.server.capture.pcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.pcap4j.core.Pcaps;

/**
 * What the systemd liveness check ({@code dev.certknock.server.systemd.Liveness}) reads of a pcap capture
 * ({@link PcapCapture#lastTurnNanos}): current while the thread waits inside libpcap with no traffic and while
 * knocks arrive, current a second at a time in its reopen backoff, stale while the sink holds the thread, frozen
 * once closed. On the host's loopback interface, which it only reads; needs root (CAP_NET_RAW) and libpcap.
 */
class PcapCaptureLivenessIT {

    @BeforeAll
    static void requirements() throws Exception {
        Process id = new ProcessBuilder("id", "-u").start();
        assumeThat(new String(id.getInputStream().readAllBytes()).trim()).as("needs root to capture").isEqualTo("0");
        String libpcap;
        try {
            libpcap = Pcaps.libVersion();
        } catch (LinkageError e) {
            libpcap = "not loadable: " + e.getMessage();
        }
        assumeThat(libpcap).as("needs libpcap (apt-get install libpcap0.8)").startsWith("libpcap");
    }

    /** The largest gap between turns seen while sampling every 5 ms for {@code span}. */
    private static Duration largestGap(PcapCapture capture, Duration span) throws InterruptedException {
        long end = System.nanoTime() + span.toNanos();
        long largest = 0;
        while (System.nanoTime() < end) {
            largest = Math.max(largest, System.nanoTime() - capture.lastTurnNanos());
            Thread.sleep(5);
        }
        return Duration.ofNanos(largest);
    }

    @Test
    void anIdleCaptureIsCurrentOneThatReceivesTooOneHeldBySinkIsNot() throws Exception {
        AtomicLong delivered = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch> held =
                new java.util.concurrent.atomic.AtomicReference<>();
        try (DatagramSocket quiet = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int port = quiet.getLocalPort(); // held, so nothing else sends to it
            PcapCapture capture = new PcapCapture(PcapCapture.Settings.of("lo", port), Clock.systemUTC());
            try {
                capture.start(d -> {
                    delivered.incrementAndGet();
                    java.util.concurrent.CountDownLatch latch = held.getAndSet(null);
                    if (latch != null) {
                        try {
                            latch.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return true;
                });
                assertThat(largestGap(capture, Duration.ofMillis(1500))).as("idle, waiting inside libpcap")
                        .isLessThan(Duration.ofMillis(500));
                assertThat(capture.stats().capturing()).isTrue();
                // And while datagrams shaped like knocks arrive (the kernel filter lets them through).
                byte[] knockish = new byte[200]; // version 1, suite 1, a length in the filter's range
                knockish[0] = 1;
                knockish[1] = 1;
                try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    for (int i = 0; i < 50; i++) {
                        s.send(new DatagramPacket(knockish, knockish.length,
                                new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
                    }
                }
                assertThat(largestGap(capture, Duration.ofMillis(500))).isLessThan(Duration.ofMillis(500));
                assertThat(capture.stats().frames()).as("the datagrams reached the capture").isEqualTo(50);

                // A sink that holds the thread (a hang in our code): the turn goes stale, and moves again after.
                java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
                held.set(release);
                try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    s.send(new DatagramPacket(knockish, knockish.length,
                            new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
                }
                assertThat(largestGap(capture, Duration.ofMillis(1200))).as("held by the sink")
                        .isGreaterThan(Duration.ofMillis(1000));
                release.countDown();
                Thread.sleep(100);
                assertThat(largestGap(capture, Duration.ofMillis(500))).as("released").isLessThan(Duration.ofMillis(500));
            } finally {
                long t0 = System.nanoTime();
                capture.close();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
            }
            // Closed: the thread has ended and its turns stop.
            long last = capture.lastTurnNanos();
            Thread.sleep(100);
            assertThat(capture.lastTurnNanos()).isEqualTo(last);
        }
    }

    @Test
    void aCaptureInItsReopenBackoffComesRoundEverySecond() throws Exception {
        PcapCapture capture = new PcapCapture(PcapCapture.Settings.of("ckpcap-none1", 9)
                .withBackoff(Duration.ofSeconds(5), Duration.ofSeconds(5)), Clock.systemUTC());
        try {
            capture.start(d -> true);
            assertThat(capture.stats().capturing()).isFalse();
            assertThat(largestGap(capture, Duration.ofMillis(2500))).as("5 s backoff waited out a second at a time")
                    .isLessThan(Duration.ofMillis(1500)).isGreaterThan(Duration.ofMillis(500));
        } finally {
            capture.close();
        }
    }
}
