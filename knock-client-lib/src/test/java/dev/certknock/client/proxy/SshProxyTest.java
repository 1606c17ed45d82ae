package dev.certknock.client.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.client.ClientPki;
import dev.certknock.client.knock.AwaitListener;
import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockTarget;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SshProxyTest {

    private final ClientPki pki = new ClientPki();
    private final InetAddress loopback = InetAddress.getLoopbackAddress();

    /** A loopback echo server: each connection gets back what it sends, until it half-closes. */
    static ServerSocket echoServer(InetAddress address) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, address);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (IOException e) {
                    // closed, or the peer went away
                }
            }
        }, "echo-server");
        t.setDaemon(true);
        t.start();
        return server;
    }

    @Test
    void knocksWaitsAndRelaysBothWays() throws Exception {
        byte[] input = new byte[100_000];
        new java.util.Random(7).nextBytes(input);
        try (ServerSocket echo = echoServer(loopback);
                DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
            KnockClient client = KnockClient.builder(pki.identity(), KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(udp.getLocalPort())).clock(pki.clock).build();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SshProxy.Outcome outcome = new SshProxy(client).run(List.of(PortGrant.single(Protocol.TCP, echo.getLocalPort())),
                    KnockOptions.defaults().withoutReply(), echo.getLocalPort(), Duration.ofSeconds(5), new ByteArrayInputStream(input),
                    out, AwaitListener.NONE);
            assertThat(outcome.connected()).isTrue();
            assertThat(out.toByteArray()).isEqualTo(input);
            assertThat(outcome.relayed()).isEqualTo(new StreamRelay.Totals(input.length, input.length));
            DatagramPacket knock = new DatagramPacket(new byte[2048], 2048);
            udp.setSoTimeout(2000);
            udp.receive(knock);
            assertThat(pki.opener().openAndVerify(java.util.Arrays.copyOf(knock.getData(), knock.getLength()))
                    .content().grants()).containsExactly(PortGrant.single(Protocol.TCP, echo.getLocalPort()));
        }
    }

    @Test
    void writesNothingWhenThePortNeverOpens() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
            closed = s.getLocalPort();
        }
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
            KnockClient client = KnockClient.builder(pki.identity(), KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(udp.getLocalPort())).clock(pki.clock).probeTimeout(Duration.ofMillis(100)).build();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SshProxy.Outcome outcome = new SshProxy(client).run(List.of(PortGrant.single(Protocol.TCP, closed)),
                    KnockOptions.defaults().withoutReply(), closed, Duration.ofMillis(600), new ByteArrayInputStream(new byte[10]), out,
                    AwaitListener.NONE);
            assertThat(outcome.connected()).isFalse();
            assertThat(outcome.relayed()).isNull();
            assertThat(outcome.confirmation().knocksSent()).isEqualTo(4);
            assertThat(out.size()).isZero();
        }
    }

    @Test
    void theRelayEndsWhenThePeerClosesEvenIfInputStaysOpen() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, loopback)) {
            Thread peer = new Thread(() -> {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write("SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            peer.start();
            InputStream neverEnds = new InputStream() {
                @Override
                public int read() throws IOException {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return -1;
                }
            };
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long start = System.nanoTime();
            StreamRelay.Totals t = StreamRelay.relay(new Socket(loopback, server.getLocalPort()), neverEnds, out);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("SSH-2.0-test\r\n");
            assertThat(t.bytesFromPeer()).isEqualTo(14);
            peer.join();
        }
    }

    @Test
    void aFailingOutputEndsTheRelayWithTheError() throws Exception {
        try (ServerSocket echo = echoServer(loopback)) {
            OutputStream broken = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    throw new IOException("stdout closed");
                }
            };
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> StreamRelay.relay(
                    new Socket(loopback, echo.getLocalPort()), new ByteArrayInputStream(new byte[] {1, 2, 3}), broken))
                    .isInstanceOf(IOException.class).hasMessage("stdout closed");
        }
    }
}
