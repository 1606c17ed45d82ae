package dev.certknock.testing.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on loopback that publishes CRLs (or any bytes) for tests. Supports ETag and
 * If-Modified-Since (answers 304), and can be told to answer with an error status, to stall, or to
 * serve what is published under a path. Counts requests per path.
 */
public final class CrlServer implements AutoCloseable {

    private record Published(byte[] body, String etag, Instant lastModified, int status, Duration delay) {
    }

    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, Published> paths = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> notModified = new ConcurrentHashMap<>();

    private CrlServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts a server on 127.0.0.1 at a free port. */
    public static CrlServer start() throws IOException {
        return start(InetAddress.getLoopbackAddress());
    }

    /** Starts a server on the given local address at a free port. */
    public static CrlServer start(InetAddress bind) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(bind, 0), 16);
        ExecutorService ex = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "crl-server");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(ex);
        CrlServer c = new CrlServer(s, ex);
        s.createContext("/", c::handle);
        s.start();
        return c;
    }

    /** Serves these bytes at the path with status 200, a fresh ETag and Last-Modified now. */
    public void publish(String path, byte[] body) {
        paths.put(path, new Published(body.clone(), etag(body), Instant.now(), 200, Duration.ZERO));
    }

    /** Answers requests for the path with this status and no body. */
    public void fail(String path, int status) {
        paths.put(path, new Published(new byte[0], null, Instant.now(), status, Duration.ZERO));
    }

    /** Waits this long before answering requests for the path (for timeout tests). */
    public void stall(String path, Duration delay) {
        Published p = paths.getOrDefault(path, new Published(new byte[0], null, Instant.now(), 200, Duration.ZERO));
        paths.put(path, new Published(p.body(), p.etag(), p.lastModified(), p.status(), delay));
    }

    public URI uri(String path) {
        return URI.create("http://" + server.getAddress().getAddress().getHostAddress() + ":"
                + server.getAddress().getPort() + path);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** How many requests the path has had. */
    public int requestCount(String path) {
        AtomicInteger n = requests.get(path);
        return n == null ? 0 : n.get();
    }

    /** How many requests for the path were answered 304 Not Modified. */
    public int notModifiedCount(String path) {
        AtomicInteger n = notModified.get(path);
        return n == null ? 0 : n.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            Published p = paths.get(path);
            if (p == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (!p.delay().isZero()) {
                try {
                    Thread.sleep(p.delay().toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (p.status() != 200) {
                exchange.sendResponseHeaders(p.status(), -1);
                return;
            }
            String inm = exchange.getRequestHeaders().getFirst("If-None-Match");
            String ims = exchange.getRequestHeaders().getFirst("If-Modified-Since");
            boolean fresh = (inm != null && inm.equals(p.etag()))
                    || (inm == null && ims != null && !p.lastModified().isAfter(parseDate(ims).plusSeconds(1)));
            exchange.getResponseHeaders().set("ETag", p.etag());
            exchange.getResponseHeaders().set("Last-Modified", HTTP_DATE.format(p.lastModified()));
            if (fresh) {
                notModified.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
                exchange.sendResponseHeaders(304, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/pkix-crl");
            exchange.sendResponseHeaders(200, p.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(p.body());
            }
        }
    }

    private static Instant parseDate(String text) {
        try {
            return Instant.from(HTTP_DATE.parse(text));
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    private static String etag(byte[] body) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + HexFormat.of().formatHex(h, 0, 8) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
