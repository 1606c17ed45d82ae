package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code knock ssh-proxy} relays the supplied stdin and stdout to a real loopback TCP echo server. */
class SshProxyCommandTest {

    @TempDir
    Path dir;

    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (IOException e) {
                    // closed
                }
            }
        }, "echo-server");
        t.setDaemon(true);
        t.start();
        return server;
    }

    @Test
    void knocksThenRelaysStdinAndStdoutToThePort() throws Exception {
        CliPki pki = new CliPki(dir);
        String message = "SSH-2.0-OpenSSH_9.2 certknock test\r\n" + "x".repeat(50_000);
        pki.stdin = message.getBytes(StandardCharsets.US_ASCII);
        try (ServerSocket echo = echoServer();
                DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            String port = Integer.toString(echo.getLocalPort());
            int rc = pki.knock(pki.credentials("ssh-proxy", "127.0.0.1", port, "--knock-port",
                    Integer.toString(receiver.getLocalPort())));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.stdout.toString(StandardCharsets.US_ASCII)).isEqualTo(message);
            // Nothing but the relayed bytes on stdout, nothing at all through picocli's writers.
            assertThat(pki.out.toString()).isEmpty();
            assertThat(pki.err.toString()).isEmpty();
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            receiver.setSoTimeout(5000);
            receiver.receive(p);
            // Without grants it asks for tcp/PORT.
            assertThat(pki.opener().openAndVerify(Arrays.copyOf(p.getData(), p.getLength())).content().grants())
                    .containsExactly(PortGrant.parse("tcp/" + port));
        }
    }

    @Test
    void verboseTalksOnStderrOnly() throws Exception {
        CliPki pki = new CliPki(dir);
        pki.stdin = "ping\n".getBytes(StandardCharsets.US_ASCII);
        try (ServerSocket echo = echoServer();
                DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int rc = pki.knock(pki.credentials("ssh-proxy", "127.0.0.1", Integer.toString(echo.getLocalPort()),
                    "tcp/" + echo.getLocalPort(), "udp/8000", "--knock-port", Integer.toString(receiver.getLocalPort()),
                    "-v"));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.stdout.toString(StandardCharsets.US_ASCII)).isEqualTo("ping\n");
            assertThat(pki.err.toString()).contains("knock ssh-proxy: sent a ").contains("knock ssh-proxy: open: ")
                    .contains("relayed 5 bytes out, 5 bytes in");
        }
    }

    @Test
    void exitsTimedOutWhenThePortStaysShut() throws Exception {
        CliPki pki = new CliPki(dir);
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int rc = pki.knock(pki.credentials("ssh-proxy", "127.0.0.1", Integer.toString(closed), "--timeout", "1",
                    "--knock-port", Integer.toString(receiver.getLocalPort())));
            assertThat(rc).isEqualTo(10);
            assertThat(pki.stdout.size()).isZero();
            assertThat(pki.err.toString()).contains("knock ssh-proxy: timed out: 127.0.0.1 tcp/" + closed);
        }
    }

    @Test
    void behindNatTheProxyLearnsTheAddressAndSaysSoOnlyOnStandardError() throws Exception {
        CliPki pki = new CliPki(dir);
        String message = "SSH-2.0-OpenSSH_9.2 certknock test\r\n";
        pki.stdin = message.getBytes(StandardCharsets.US_ASCII);
        try (ServerSocket echo = echoServer();
                ReplyServer server = new ReplyServer(pki.opener(), InetAddress.getByName("192.0.2.33"), false,
                        System::currentTimeMillis)) {
            int rc = pki.knock(pki.credentials("ssh-proxy", "127.0.0.1", Integer.toString(echo.getLocalPort()),
                    "--knock-port", server.port(), "-v"));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.stdout.toString(StandardCharsets.US_ASCII)).isEqualTo(message);
            assertThat(pki.out.toString()).isEmpty();
            assertThat(server.knocks()).hasSize(2);
            assertThat(pki.err.toString())
                    .contains("knock ssh-proxy: learned address 192.0.2.33 from the server; knocked again")
                    .contains("knock ssh-proxy: opened tcp/" + echo.getLocalPort()
                            + " for 60 s for 192.0.2.33 (confirmed by the server)");
        }
    }
}
