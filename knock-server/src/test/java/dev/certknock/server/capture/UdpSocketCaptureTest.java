package dev.certknock.server.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.server.knock.ReceivedDatagram;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The knock port of the {@code udp-socket} capture belongs to the capture alone: a port another socket
 * holds (even one that asked for {@code SO_REUSEADDR}) is a clear refusal to start, and once started no
 * other socket can bind it, also when asking for {@code SO_REUSEADDR}, so no local process can take the
 * knocks.
 */
class UdpSocketCaptureTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void aPortAlreadyTakenIsAClearRefusalToStart() throws Exception {
        try (DatagramSocket squatter = new DatagramSocket(null)) {
            squatter.setReuseAddress(true);
            squatter.bind(new InetSocketAddress(LOOPBACK, 0));
            int port = squatter.getLocalPort();
            UdpSocketCapture capture = new UdpSocketCapture(new InetSocketAddress(LOOPBACK, port), Clock.systemUTC());
            try {
                assertThatThrownBy(() -> capture.start(d -> true))
                        .isInstanceOf(BindException.class)
                        .hasMessageContaining("udp port " + port + " on " + LOOPBACK.getHostAddress())
                        .hasMessageContaining("already in use")
                        .hasMessageContaining("capture.port")
                        .hasMessageContaining("capture.mode: pcap");
            } finally {
                capture.close();
            }
        }
    }

    @Test
    void onceStartedNoOtherSocketCanBindThePortAndTheKnocksReachTheCapture() throws Exception {
        LinkedBlockingQueue<ReceivedDatagram> got = new LinkedBlockingQueue<>();
        UdpSocketCapture capture = new UdpSocketCapture(new InetSocketAddress(LOOPBACK, 0), Clock.systemUTC());
        try {
            capture.start(got::add);
            int port = capture.localAddress().getPort();
            for (InetAddress at : new InetAddress[] {LOOPBACK, InetAddress.getByName("0.0.0.0")}) {
                try (DatagramSocket thief = new DatagramSocket(null)) {
                    thief.setReuseAddress(true);
                    assertThatThrownBy(() -> thief.bind(new InetSocketAddress(at, port)))
                            .as("a second socket binding %s:%d", at, port).isInstanceOf(BindException.class);
                }
            }
            byte[] knock = "knock".getBytes(StandardCharsets.US_ASCII);
            int clientPort;
            try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                clientPort = client.getLocalPort();
                client.send(new DatagramPacket(knock, knock.length, new InetSocketAddress(LOOPBACK, port)));
            }
            ReceivedDatagram d = got.poll(10, TimeUnit.SECONDS);
            assertThat(d).as("the knock reached the capture").isNotNull();
            assertThat(d.length()).isEqualTo(knock.length);
            assertThat(d.source().getPort()).isEqualTo(clientPort);
        } finally {
            capture.close();
        }
    }

    @Test
    void datagramsTheSinkRefusesAreCounted() throws Exception {
        LinkedBlockingQueue<ReceivedDatagram> seen = new LinkedBlockingQueue<>();
        UdpSocketCapture capture = new UdpSocketCapture(new InetSocketAddress(LOOPBACK, 0), Clock.systemUTC());
        try {
            capture.start(d -> {
                seen.add(d);
                return false; // a full queue
            });
            byte[] knock = "knock".getBytes(StandardCharsets.US_ASCII);
            try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                client.send(new DatagramPacket(knock, knock.length, capture.localAddress()));
            }
            assertThat(seen.poll(10, TimeUnit.SECONDS)).as("the datagram reached the sink").isNotNull();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (capture.figures().get("refusedBySink") == 0 && System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            assertThat(capture.figures()).containsEntry("received", 1L).containsEntry("refusedBySink", 1L);
        } finally {
            capture.close();
        }
    }
}
