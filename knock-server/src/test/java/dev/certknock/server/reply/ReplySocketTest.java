package dev.certknock.server.reply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The socket replies leave from with pcap capture: it holds the knock port, and nobody else may. */
class ReplySocketTest {

    @Test
    void aKnockPortTakenByAnotherProcessIsARefusalToStartThatSaysWhatToDo() throws Exception {
        try (DatagramSocket squatter = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = squatter.getLocalPort();
            assertThatThrownBy(() -> ReplySocket.bind(port)).isInstanceOf(BindException.class)
                    .hasMessageContaining("udp port " + port + " is already in use")
                    .hasMessageContaining("knock.replies: false");
        }
    }

    @Test
    void onceBoundNoOtherSocketCanTakeThePortAndRepliesLeaveFromIt() throws Exception {
        try (ReplySocket replies = ReplySocket.bind(0);
                DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = replies.localAddress().getPort();
            DatagramSocket other = new DatagramSocket(null);
            try {
                other.setReuseAddress(true); // even a process that asks for SO_REUSEADDR
                assertThatThrownBy(() -> other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)))
                        .isInstanceOf(BindException.class);
            } finally {
                other.close();
            }
            byte[] reply = {(byte) 0x82, 1, 2, 3};
            replies.send((InetSocketAddress) client.getLocalSocketAddress(), reply);
            client.setSoTimeout(5000);
            DatagramPacket got = new DatagramPacket(new byte[64], 64);
            client.receive(got);
            assertThat(got.getLength()).isEqualTo(4);
            assertThat(got.getPort()).as("from the knock port, so that a NAT lets it back in").isEqualTo(port);
        }
    }
}
