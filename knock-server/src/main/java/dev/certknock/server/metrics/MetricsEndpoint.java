package dev.certknock.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} over HTTP with the JDK's {@link HttpServer}, and nothing else: every other path is 404, every
 * other method 405. Bounded: {@link #THREADS} threads, {@link #QUEUED} exchanges waiting (more are closed unanswered),
 * a small accept backlog, request bodies ignored, and the JDK server's request and response time limits
 * ({@code sun.net.httpserver.maxReqTime}, {@code maxRspTime}) set to {@link #TIME_LIMIT_SECONDS} unless the operator
 * set them.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    public static final String PATH = "/metrics";
    static final int THREADS = 2;
    static final int QUEUED = 16;
    static final int BACKLOG = 16;
    static final int TIME_LIMIT_SECONDS = 10;

    private final HttpServer server;
    private final ThreadPoolExecutor executor;

    private MetricsEndpoint(HttpServer server, ThreadPoolExecutor executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Listens on {@code address} and answers scrapes with {@code body}. */
    public static MetricsEndpoint start(InetSocketAddress address, Supplier<String> body) throws IOException {
        // Read once, when the JDK's server class is first used: set before it is.
        System.setProperty("sun.net.httpserver.maxReqTime",
                System.getProperty("sun.net.httpserver.maxReqTime", Integer.toString(TIME_LIMIT_SECONDS)));
        System.setProperty("sun.net.httpserver.maxRspTime",
                System.getProperty("sun.net.httpserver.maxRspTime", Integer.toString(TIME_LIMIT_SECONDS)));
        ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUED), r -> {
                    Thread t = new Thread(r, "metrics-http");
                    t.setDaemon(true);
                    return t;
                }, (task, pool) -> LOG.debug("metrics endpoint busy: a scrape is refused"));
        HttpServer server;
        try {
            server = HttpServer.create(address, BACKLOG);
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IOException("cannot listen for metrics on " + address.getAddress().getHostAddress() + " port "
                    + address.getPort() + ": " + e.getMessage(), e);
        }
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, body));
        server.start();
        return new MetricsEndpoint(server, executor);
    }

    private static void handle(HttpExchange exchange, Supplier<String> body) throws IOException {
        try (exchange) { // no request body is read: the exchange is closed after the answer
            String method = exchange.getRequestMethod();
            String query = exchange.getRequestURI().getRawQuery();
            if (!PATH.equals(exchange.getRequestURI().getRawPath()) || (query != null && !query.isEmpty())) {
                plain(exchange, 404, "not found\n");
                return;
            }
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                plain(exchange, 405, "method not allowed\n");
                return;
            }
            byte[] bytes;
            try {
                bytes = body.get().getBytes(StandardCharsets.UTF_8);
            } catch (RuntimeException e) {
                LOG.warn("metrics scrape failed: {}", e.toString());
                plain(exchange, 500, "scrape failed\n");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", ServerMetrics.contentType());
            if ("HEAD".equals(method)) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static void plain(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=us-ascii");
        exchange.sendResponseHeaders(status, "HEAD".equals(exchange.getRequestMethod()) ? -1 : bytes.length);
        if (!"HEAD".equals(exchange.getRequestMethod())) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Where it listens (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** The scrape URL, e.g. {@code http://127.0.0.1:9464/metrics}. */
    public String url() {
        return url(address());
    }

    public static String url(InetSocketAddress a) {
        String host = dev.certknock.protocol.grant.AddressText.format(a.getAddress());
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + PATH;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
