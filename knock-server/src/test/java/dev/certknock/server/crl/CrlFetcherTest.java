package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.certknock.testing.http.CrlServer;
import dev.certknock.testing.pki.TestCa;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrlFetcherTest {

    private static final int MAX_BYTES = 64 * 1024;

    private final TestCa ca = TestCa.root("CN=fetcher test CA", Clock.systemUTC());
    private final CrlServer server;
    private final CrlFetcher fetcher = new CrlFetcher(Duration.ofMillis(500), Duration.ofMillis(400), MAX_BYTES, 3);
    private TinyServer tiny;

    @TempDir
    Path dir;

    CrlFetcherTest() throws IOException {
        server = CrlServer.start();
    }

    @AfterEach
    void close() {
        fetcher.close();
        server.close();
        if (tiny != null) {
            tiny.close();
        }
    }

    private byte[] crl() throws Exception {
        return ca.crl().build().getEncoded();
    }

    private static byte[] body(FetchResult result) {
        assertThat(result).isInstanceOf(FetchResult.Fetched.class);
        return ((FetchResult.Fetched) result).body();
    }

    private static String failure(FetchResult result) {
        assertThat(result).isInstanceOf(FetchResult.Failed.class);
        return ((FetchResult.Failed) result).reason();
    }

    @Test
    void fetchesABody() throws Exception {
        byte[] crl = crl();
        server.publish("/ca.crl", crl);
        assertThat(body(fetcher.fetch(new CrlSource(server.uri("/ca.crl"))))).isEqualTo(crl);
    }

    @Test
    void theSecondFetchIsConditionalAndAnswered304UntilTheCrlChangesOrIsForgotten() throws Exception {
        CrlSource source = new CrlSource(server.uri("/ca.crl"));
        server.publish("/ca.crl", crl());
        body(fetcher.fetch(source));
        assertThat(fetcher.fetch(source)).isInstanceOf(FetchResult.NotModified.class);
        assertThat(server.notModifiedCount("/ca.crl")).isEqualTo(1);

        byte[] next = crl();
        server.publish("/ca.crl", next);
        assertThat(body(fetcher.fetch(source))).isEqualTo(next);

        fetcher.forget(source);
        assertThat(body(fetcher.fetch(source))).isEqualTo(next);
        assertThat(server.notModifiedCount("/ca.crl")).isEqualTo(1);
        assertThat(server.requestCount("/ca.crl")).isEqualTo(4);
    }

    @Test
    void anErrorStatusFails() {
        server.fail("/gone.crl", 404);
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/gone.crl"))))).startsWith("HTTP 404");
        server.fail("/broken.crl", 500);
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/broken.crl"))))).startsWith("HTTP 500");
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/never-published.crl"))))).startsWith("HTTP 404");
    }

    @Test
    void aServerThatDoesNotAnswerInTimeFails() throws Exception {
        server.publish("/slow.crl", crl());
        server.stall("/slow.crl", Duration.ofSeconds(3));
        long start = System.nanoTime();
        String reason = failure(fetcher.fetch(new CrlSource(server.uri("/slow.crl"))));
        assertThat(reason).contains("no response within 400 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aServerThatTricklesIsCutOffAfterConnectPlusResponseTimeout() throws Exception {
        tiny = new TinyServer();
        tiny.handle("/trickle.crl", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked
            OutputStream out = exchange.getResponseBody();
            for (int i = 0; i < 100; i++) {
                out.write(0x30);
                out.flush();
                sleep(Duration.ofMillis(100));
            }
        });
        long start = System.nanoTime();
        assertThat(failure(fetcher.fetch(new CrlSource(tiny.uri("/trickle.crl"))))).contains("no complete response within 900 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void aSourceThatTricklesTheStatusLineAndHeadersIsCutOffAtTheDeadline() throws Exception {
        try (TricklingHttpSource trickle = new TricklingHttpSource(Duration.ofMillis(100))) {
            long start = System.nanoTime();
            String reason = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> failure(fetcher.fetch(new CrlSource(trickle.uri("/ca.crl")))));
            assertThat(reason).contains("no complete response within 900 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(900 + 2000));
            assertThat(trickle.accepted()).isEqualTo(1);
        }
    }

    @Test
    void aDeclaredOversizedBodyFailsWithoutReadingIt() {
        server.publish("/big.crl", new byte[MAX_BYTES + 1]);
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/big.crl"))))).contains("larger than the limit of 65536");
        server.publish("/just-fits.crl", new byte[MAX_BYTES]);
        assertThat(body(fetcher.fetch(new CrlSource(server.uri("/just-fits.crl"))))).hasSize(MAX_BYTES);
    }

    @Test
    void anEndlessBodyIsAbortedAtTheLimit() throws Exception {
        tiny = new TinyServer();
        AtomicInteger written = new AtomicInteger();
        tiny.handle("/endless.crl", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked, no Content-Length
            OutputStream out = exchange.getResponseBody();
            byte[] chunk = new byte[8192];
            while (written.get() < 512 * 1024 * 1024) { // ends only when the client goes away
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
        });
        long start = System.nanoTime();
        assertThat(failure(fetcher.fetch(new CrlSource(tiny.uri("/endless.crl"))))).contains("larger than the limit");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(written.get()).isLessThan(64 * 1024 * 1024);
    }

    @Test
    void redirectsAreFollowedUpToTheLimitAndLoopsFail() throws Exception {
        byte[] crl = crl();
        tiny = new TinyServer();
        for (int i = 0; i < 5; i++) {
            String next = "/hop/" + (i + 1);
            tiny.handle("/hop/" + i, exchange -> redirect(exchange, next));
        }
        tiny.handle("/hop/5", exchange -> {
            exchange.sendResponseHeaders(200, crl.length);
            exchange.getResponseBody().write(crl);
        });
        tiny.handle("/loop/a", exchange -> redirect(exchange, "/loop/b"));
        tiny.handle("/loop/b", exchange -> redirect(exchange, "/loop/a"));

        assertThat(body(fetcher.fetch(new CrlSource(tiny.uri("/hop/2"))))).isEqualTo(crl); // 3 redirects
        assertThat(failure(fetcher.fetch(new CrlSource(tiny.uri("/hop/1"))))).startsWith("too many redirects");
        assertThat(tiny.count("/hop/5")).isEqualTo(1);
        assertThat(failure(fetcher.fetch(new CrlSource(tiny.uri("/loop/a"))))).startsWith("redirect loop");
        // HttpClient stops at the first location it has already been redirected to: a, b, a
        assertThat(tiny.count("/loop/a") + tiny.count("/loop/b")).isLessThanOrEqualTo(3);

        try (CrlFetcher noRedirects = new CrlFetcher(Duration.ofMillis(500), Duration.ofMillis(500), MAX_BYTES, 0)) {
            assertThat(failure(noRedirects.fetch(new CrlSource(tiny.uri("/hop/4"))))).startsWith("HTTP 302");
        }
    }

    @Test
    void aPemBodyIsDecoded() throws Exception {
        byte[] crl = crl();
        server.publish("/ca.pem", pem(crl));
        assertThat(body(fetcher.fetch(new CrlSource(server.uri("/ca.pem"))))).isEqualTo(crl);
        server.publish("/cert.pem", "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/cert.pem"))))).contains("not an X509 CRL");
        server.publish("/bad.pem", "-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/bad.pem"))))).contains("Base64");
        server.publish("/empty.crl", new byte[0]);
        assertThat(failure(fetcher.fetch(new CrlSource(server.uri("/empty.crl"))))).contains("empty");
    }

    @Test
    void fileSourcesAreReadWithTheSameCap() throws Exception {
        byte[] crl = crl();
        Path der = Files.write(dir.resolve("ca.crl"), crl);
        Path pem = Files.write(dir.resolve("ca.pem"), pem(crl));
        Path big = Files.write(dir.resolve("big.crl"), new byte[MAX_BYTES + 1]);
        assertThat(body(fetcher.fetch(CrlSource.of(der)))).isEqualTo(crl);
        assertThat(body(fetcher.fetch(new CrlSource(URI.create("file://" + pem.toAbsolutePath()))))).isEqualTo(crl);
        assertThat(failure(fetcher.fetch(CrlSource.of(big)))).contains("larger than the limit");
        assertThat(failure(fetcher.fetch(CrlSource.of(dir.resolve("missing.crl"))))).startsWith("no such file");
        assertThat(failure(fetcher.fetch(CrlSource.of(dir)))).startsWith("could not read");
    }

    @Test
    void aRefusedConnectionFails() throws Exception {
        URI closed;
        try (CrlServer gone = CrlServer.start()) {
            closed = gone.uri("/ca.crl");
        }
        assertThat(failure(fetcher.fetch(new CrlSource(closed)))).startsWith("could not connect");
    }

    @Test
    void sourcesAreHttpHttpsOrFile() {
        assertThat(CrlSource.of("https://ca.example/ca.crl").isFile()).isFalse();
        assertThat(CrlSource.of("file:relative/ca.crl").path()).isEqualTo(Path.of("relative/ca.crl"));
        assertThat(CrlSource.of("file:///abs/ca.crl").path()).isEqualTo(Path.of("/abs/ca.crl"));
        for (String bad : new String[] {"ftp://ca.example/ca.crl", "ldap://ca.example/", "http:///ca.crl", "ca.crl"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> CrlSource.of(bad))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static byte[] pem(byte[] der) {
        return ("-----BEGIN X509 CRL-----\r\n" + Base64.getMimeEncoder(64, new byte[] {'\r', '\n'}).encodeToString(der)
                + "\r\n-----END X509 CRL-----\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static void redirect(HttpExchange exchange, String path) throws IOException {
        exchange.getResponseHeaders().set("Location", path);
        exchange.sendResponseHeaders(302, -1);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }

    /** A loopback HTTP server with handlers the CrlServer fixture does not have (redirects, endless bodies). */
    static final class TinyServer implements AutoCloseable {
        private final HttpServer server;
        private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "tiny-http");
            t.setDaemon(true);
            return t;
        });
        private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

        TinyServer() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setExecutor(executor);
            server.start();
        }

        void handle(String path, Handler handler) {
            server.createContext(path, exchange -> {
                counts.computeIfAbsent(exchange.getRequestURI().getPath(), k -> new AtomicInteger()).incrementAndGet();
                try (exchange) {
                    handler.handle(exchange);
                } catch (IOException e) {
                    // the client went away
                }
            });
        }

        int count(String path) {
            AtomicInteger n = counts.get(path);
            return n == null ? 0 : n.get();
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
