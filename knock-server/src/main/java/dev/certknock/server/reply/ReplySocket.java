package dev.certknock.server.reply;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * The socket replies leave from with {@code pcap} capture, which has no socket of its own: bound to the knock
 * port on every address (IPv6 and IPv4), so that a reply comes from the port the client knocked on and passes
 * the client's NAT. Bound without {@code SO_REUSEADDR}, so no other local process can take the knock port
 * while the server runs; a port already taken is a refusal to start. It never reads: the firewall drops knocks
 * before they reach it, and whatever does reach it stays in a small receive buffer that the kernel caps.
 * (A host with several addresses answers from the address the kernel routes the reply from.)
 */
public final class ReplySocket implements KnockReplies.Transport, AutoCloseable {

    private final DatagramChannel channel;

    private ReplySocket(DatagramChannel channel) {
        this.channel = channel;
    }

    /** Binds the knock port on every address. */
    public static ReplySocket bind(int port) throws IOException {
        DatagramChannel c = DatagramChannel.open();
        try {
            c.setOption(StandardSocketOptions.SO_REUSEADDR, false);
            c.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            c.bind(new InetSocketAddress(port));
        } catch (BindException e) {
            c.close();
            throw new BindException("udp port " + port + " is already in use by another socket (" + e.getMessage()
                    + "): the server sends its replies from the knock port; stop the process holding it (see `ss -ulpn "
                    + "'sport = :" + port + "'`), or set knock.replies: false (clients behind NAT then need their "
                    + "public address by hand)");
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return new ReplySocket(c);
    }

    @Override
    public void send(InetSocketAddress to, byte[] datagram) throws IOException {
        channel.send(ByteBuffer.wrap(datagram), to);
    }

    public InetSocketAddress localAddress() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do: the process is stopping
        }
    }
}
