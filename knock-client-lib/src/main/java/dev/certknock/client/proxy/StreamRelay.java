package dev.certknock.client.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Relays bytes between a local pair of streams and a connected socket, in two threads, until the socket's side
 * ends. When the local input ends, the socket's output is shut down (half-close) so the peer sees EOF and can
 * finish; when the peer closes, the relay ends, even if the local input is still open (a blocked read of a
 * process's stdin cannot be interrupted, so that thread is a daemon and simply left behind).
 */
public final class StreamRelay {

    private static final int BUFFER = 16 * 1024;

    private StreamRelay() {
    }

    /**
     * What was relayed.
     *
     * @param bytesToPeer bytes read from {@code in} and sent to the peer
     * @param bytesFromPeer bytes read from the peer and written to {@code out}
     */
    public record Totals(long bytesToPeer, long bytesFromPeer) {
    }

    /**
     * Relays until the peer's stream ends, then closes the socket. Flushes {@code out} after every read, so an
     * interactive protocol such as SSH sees each packet at once.
     *
     * @param socket the connected socket; closed on return
     * @param in what goes to the peer (stdin, for ssh)
     * @param out what the peer sends goes here (stdout, for ssh)
     * @return the bytes relayed each way
     * @throws IOException when reading from the peer or writing to {@code out} fails
     */
    public static Totals relay(Socket socket, InputStream in, OutputStream out) throws IOException {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(out, "out");
        long[] toPeer = new long[1];
        AtomicReference<IOException> upstreamFailure = new AtomicReference<>();
        Thread upstream = new Thread(() -> {
            try {
                OutputStream peer = socket.getOutputStream();
                byte[] buf = new byte[BUFFER];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    peer.write(buf, 0, n);
                    peer.flush();
                    synchronized (toPeer) {
                        toPeer[0] += n;
                    }
                }
                socket.shutdownOutput();
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    upstreamFailure.set(e);
                }
            }
        }, "certknock-relay-to-peer");
        upstream.setDaemon(true);
        upstream.start();
        long fromPeer = 0;
        try (socket) {
            InputStream peer = socket.getInputStream();
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = peer.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
                fromPeer += n;
            }
            out.flush();
        }
        try {
            // The socket is closed now: a writer still blocked on it fails at once; one blocked reading `in` stays.
            upstream.join(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (toPeer) {
            return new Totals(toPeer[0], fromPeer);
        }
    }
}
