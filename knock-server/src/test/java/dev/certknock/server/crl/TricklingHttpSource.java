package dev.certknock.server.crl;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP source on loopback that never finishes its response head: it writes
 * {@code HTTP/1.1 200 OK\r\n} and then one header line after another, one byte per interval, never the
 * blank line that ends the headers. Each byte comes well within a socket timeout, so only a deadline for
 * the whole exchange stops a client. Tells whether any connection is still being trickled to.
 */
public final class TricklingHttpSource implements AutoCloseable {

    private static final byte[] HEAD = "HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEADER = "X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket socket;
    private final Duration interval;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Thread acceptor;

    public TricklingHttpSource(Duration interval) throws IOException {
        this.interval = interval;
        this.socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = new Thread(this::accept, "trickling-http-source");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort() + path);
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Whether some client is still connected and being trickled to. */
    public boolean trickling() {
        return !open.isEmpty();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                accepted.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> trickle(s), "trickling-http-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void trickle(Socket s) {
        try (s) {
            OutputStream out = s.getOutputStream();
            for (int i = 0; ; i++) {
                out.write(i < HEAD.length ? HEAD[i] : HEADER[(i - HEAD.length) % HEADER.length]);
                out.flush();
                Thread.sleep(interval.toMillis());
            }
        } catch (IOException e) {
            // the client gave up: that is the point
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.remove(s);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }
}
