package dev.certknock.server.capture;

import dev.certknock.server.event.LogText;
import dev.certknock.server.knock.ReceivedDatagram;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives knocks on a plain UDP socket: for hosts without libpcap or CAP_NET_RAW. Nothing is sent from the
 * socket but the sealed replies to authenticated v2 knocks ({@link #send}). (The kernel may still answer ICMP
 * for a closed port on other addresses; with a bound socket it does not for this port.)
 *
 * <p>The socket is bound without {@code SO_REUSEADDR} (and without {@code SO_REUSEPORT}): with it, any
 * local process that also asks for it could bind the same port and receive the knocks instead. So a
 * port already taken is a refusal to start, and once started no other process can bind the port. Even
 * so, a socket is not the production mode: {@code pcap} sees knocks before any socket does.
 */
public final class UdpSocketCapture implements PacketSource, dev.certknock.server.reply.KnockReplies.Transport {

    private static final Logger LOG = LoggerFactory.getLogger(UdpSocketCapture.class);
    private static final int BUFFER = 2048;
    /** Longest wait in {@code receive}: the loop comes round at least this often (see {@link #lastTurnNanos}). */
    private static final int RECEIVE_TIMEOUT_MILLIS = 1000;

    private final InetSocketAddress bind;
    private final Clock clock;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private DatagramSocket socket;
    private Thread thread;
    private volatile long lastTurn = System.nanoTime();

    public UdpSocketCapture(InetSocketAddress bind, Clock clock) {
        this.bind = bind;
        this.clock = clock;
    }

    @Override
    public void start(Predicate<ReceivedDatagram> sink) throws IOException {
        DatagramSocket s = new DatagramSocket(null);
        try {
            s.setReuseAddress(false);
            s.setReceiveBufferSize(4 * 1024 * 1024);
            s.setSoTimeout(RECEIVE_TIMEOUT_MILLIS);
            s.bind(bind);
        } catch (BindException e) {
            s.close();
            throw new BindException("udp port " + bind.getPort() + " on " + bind.getAddress().getHostAddress()
                    + " is already in use by another socket (" + e.getMessage() + "): stop the process holding it"
                    + " (see `ss -ulpn 'sport = :" + bind.getPort() + "'`) or set capture.port to a free port;"
                    + " for production use capture.mode: pcap");
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        socket = s;
        lastTurn = System.nanoTime();
        thread = new Thread(() -> loop(sink), "knock-capture-udp");
        thread.setDaemon(true);
        thread.start();
        LOG.info("listening for knocks on udp {}", socket.getLocalSocketAddress());
    }

    /** Sends a reply from the knock socket. */
    @Override
    public void send(InetSocketAddress to, byte[] datagram) throws IOException {
        DatagramSocket s = socket;
        if (s == null) {
            throw new IOException("the knock socket is not open");
        }
        s.send(new DatagramPacket(datagram, datagram.length, to));
    }

    /** The bound address (the port is known once started, also when 0 was asked for). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void loop(Predicate<ReceivedDatagram> sink) {
        byte[] buf = new byte[BUFFER];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (!socket.isClosed()) {
            lastTurn = System.nanoTime();
            try {
                p.setLength(buf.length);
                socket.receive(p);
                received.incrementAndGet();
                if (!sink.test(new ReceivedDatagram(buf, 0, p.getLength(), (InetSocketAddress) p.getSocketAddress(),
                        clock.instant()))) {
                    refused.incrementAndGet();
                }
            } catch (SocketTimeoutException e) {
                // No datagram within the timeout: round the loop again (the liveness check sees the turn).
            } catch (SocketException e) {
                if (!socket.isClosed()) {
                    LOG.warn("knock socket failed: {}", LogText.of(e.getMessage()));
                }
                return;
            } catch (IOException | RuntimeException e) {
                LOG.debug("receive failed: {}", LogText.of(e.toString()));
            }
        }
    }

    @Override
    public long received() {
        return received.get();
    }

    @Override
    public long lastTurnNanos() {
        return lastTurn;
    }

    /** Datagrams received and refused by the sink (a full queue), as {@code refusedBySink} like the pcap capture's. */
    @Override
    public Map<String, Long> figures() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("received", received.get());
        m.put("refusedBySink", refused.get());
        return m;
    }

    @Override
    public void close() {
        if (socket != null) {
            socket.close();
        }
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
