package dev.certknock.server.crl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.CircularRedirectException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpHostConnectException;
import org.apache.hc.client5.http.RedirectException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpStatus;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches CRLs over HTTP(S) with Apache HttpClient 5, or reads them from {@code file:} sources.
 *
 * <ul>
 * <li>Timeouts: connect, and response (the longest wait for data), and one hard deadline for the whole
 * exchange (connect, status line, headers and body): connect + response timeout. At the deadline the request
 * is aborted from a timer thread (its connection is shut), so a server that trickles the status line,
 * the headers or the body one byte at a time cannot hold a fetch longer than that.</li>
 * <li>Size: a Content-Length above maxBytes fails at once; a body is read up to maxBytes and the
 * connection is aborted (not drained) if there is more. Files are capped the same way.</li>
 * <li>Conditional GET: the ETag and Last-Modified of the last body fetched from a source are sent back
 * (If-None-Match, If-Modified-Since); a 304 is {@link FetchResult.NotModified}. {@link #forget} drops
 * them, so that the next fetch is unconditional.</li>
 * <li>Redirects: at most maxRedirects, loops fail at once; anything but 200 (or 304 to a conditional
 * request) fails.</li>
 * <li>PEM bodies are decoded to DER. No content decompression, no cookies, no authentication, no retries.
 * The JVM's proxy settings apply.</li>
 * </ul>
 * Network and I/O errors never escape: they become {@link FetchResult.Failed}. Thread-safe.
 */
public final class CrlFetcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CrlFetcher.class);
    private static final String USER_AGENT = "certknock-knock-server";

    private record Validators(String etag, String lastModified) {
    }

    private final CloseableHttpClient client;
    private final Duration connectTimeout;
    private final Duration responseTimeout;
    private final int maxBytes;
    private final int maxRedirects;
    private final Map<URI, Validators> validators = new ConcurrentHashMap<>();
    /** Requests under way, aborted by {@link #close}. */
    private final Set<HttpGet> active = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Aborts requests that reach their deadline; one daemon thread, tasks are tiny. */
    private final ScheduledThreadPoolExecutor deadlines = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "crl-fetch-deadline");
        t.setDaemon(true);
        return t;
    });

    public CrlFetcher(CrlSettings settings) {
        this(settings.connectTimeout(), settings.responseTimeout(), settings.maxBytes(), settings.maxRedirects());
    }

    public CrlFetcher(Duration connectTimeout, Duration responseTimeout, int maxBytes, int maxRedirects) {
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        this.responseTimeout = Objects.requireNonNull(responseTimeout, "responseTimeout");
        if (maxBytes < 1 || maxRedirects < 0) {
            throw new IllegalArgumentException("maxBytes must be positive and maxRedirects not negative");
        }
        this.maxBytes = maxBytes;
        this.maxRedirects = maxRedirects;
        deadlines.setRemoveOnCancelPolicy(true); // a fetch that ends in time leaves nothing queued
        Timeout connect = Timeout.of(connectTimeout);
        Timeout response = Timeout.of(responseTimeout);
        this.client = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(connect)
                                .setSocketTimeout(response)
                                .build())
                        .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                                .http1Config(Http1Config.custom().setMaxLineLength(8192).setMaxHeaderCount(100).build())
                                .build())
                        .setMaxConnTotal(8)
                        .setMaxConnPerRoute(2)
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(connect)
                        .setResponseTimeout(response)
                        .setRedirectsEnabled(maxRedirects > 0)
                        .setMaxRedirects(maxRedirects)
                        .setCircularRedirectsAllowed(false)
                        .setContentCompressionEnabled(false)
                        .setAuthenticationEnabled(false)
                        .build())
                .disableContentCompression()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableAutomaticRetries()
                .useSystemProperties()
                .setUserAgent(USER_AGENT)
                .build();
    }

    /** Fetches the source. Never throws for network, HTTP or file errors. */
    public FetchResult fetch(CrlSource source) {
        return source.isFile() ? readFile(source) : get(source.uri());
    }

    /** Forgets the ETag and Last-Modified of the source, so that the next fetch is unconditional. */
    public void forget(CrlSource source) {
        validators.remove(source.uri());
    }

    private FetchResult readFile(CrlSource source) {
        try {
            return decoded(CrlCache.readCapped(source.path(), maxBytes));
        } catch (NoSuchFileException e) {
            return new FetchResult.Failed("no such file: " + source.path());
        } catch (IOException | RuntimeException e) {
            return new FetchResult.Failed("could not read " + source.path() + ": " + CrlParser.describe(e));
        }
    }

    private FetchResult get(URI uri) {
        HttpGet request = new HttpGet(uri);
        request.addHeader(HttpHeaders.ACCEPT, "application/pkix-crl, application/x-pkcs7-crl;q=0.9, */*;q=0.5");
        Validators known = validators.get(uri);
        if (known != null) {
            if (known.etag() != null) {
                request.addHeader(HttpHeaders.IF_NONE_MATCH, known.etag());
            }
            if (known.lastModified() != null) {
                request.addHeader(HttpHeaders.IF_MODIFIED_SINCE, known.lastModified());
            }
        }
        Duration limit = deadline();
        long deadline = System.nanoTime() + limit.toNanos();
        AtomicBoolean expired = new AtomicBoolean();
        active.add(request);
        ScheduledFuture<?> abort;
        try {
            if (closed) {
                throw new RejectedExecutionException();
            }
            abort = deadlines.schedule(() -> {
                expired.set(true);
                request.cancel(); // shuts the connection: a read blocked in the status line, headers or body fails at once
            }, limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            active.remove(request);
            return new FetchResult.Failed("the CRL fetcher is closed");
        }
        ClassicHttpResponse response = null;
        FetchResult result;
        try {
            response = client.executeOpen(null, request, HttpClientContext.create());
            result = handle(uri, request, response, known != null, deadline);
        } catch (IOException | RuntimeException e) {
            request.cancel();
            result = new FetchResult.Failed(expired.get() ? tooSlow() : describe(e));
        } finally {
            abort.cancel(false);
            active.remove(request);
            if (response != null) {
                try {
                    response.close();
                } catch (IOException | RuntimeException e) {
                    LOG.debug("closing the response from {} failed", uri, e);
                }
            }
        }
        return result;
    }

    private FetchResult handle(URI uri, HttpGet request, ClassicHttpResponse response, boolean conditional, long deadline)
            throws IOException {
        int code = response.getCode();
        if (code == HttpStatus.SC_NOT_MODIFIED) {
            request.cancel();
            return conditional ? new FetchResult.NotModified()
                    : new FetchResult.Failed("HTTP 304 Not Modified to an unconditional request");
        }
        if (code != HttpStatus.SC_OK) {
            request.cancel(); // do not read (or drain) an error body
            String phrase = response.getReasonPhrase();
            return new FetchResult.Failed("HTTP " + code + (phrase == null || phrase.isEmpty() ? "" : " " + phrase));
        }
        HttpEntity entity = response.getEntity();
        if (entity == null) {
            return new FetchResult.Failed("HTTP 200 without a body");
        }
        long declared = entity.getContentLength();
        if (declared > maxBytes) {
            request.cancel();
            return new FetchResult.Failed("body of " + declared + " bytes is larger than the limit of " + maxBytes + " bytes");
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(declared >= 0 ? (int) declared : 16 * 1024);
        InputStream in = entity.getContent();
        byte[] buffer = new byte[16 * 1024];
        for (int n; (n = in.read(buffer)) != -1; ) {
            if (body.size() + n > maxBytes) {
                request.cancel(); // abort: closing would read the rest
                return new FetchResult.Failed("body is larger than the limit of " + maxBytes + " bytes");
            }
            body.write(buffer, 0, n);
            if (System.nanoTime() - deadline > 0) {
                request.cancel();
                return new FetchResult.Failed(tooSlow());
            }
        }
        in.close();
        FetchResult result = decoded(body.toByteArray());
        if (result instanceof FetchResult.Fetched) {
            String etag = value(response.getFirstHeader(HttpHeaders.ETAG));
            String lastModified = value(response.getFirstHeader(HttpHeaders.LAST_MODIFIED));
            if (etag == null && lastModified == null) {
                validators.remove(uri);
            } else {
                validators.put(uri, new Validators(etag, lastModified));
            }
        }
        return result;
    }

    /** The hard deadline of one HTTP exchange: connect + response timeout. */
    public Duration deadline() {
        return connectTimeout.plus(responseTimeout);
    }

    private String tooSlow() {
        return "no complete response within " + seconds(deadline()) + " (the fetch deadline, connect + response timeout)";
    }

    private static FetchResult decoded(byte[] body) {
        if (body.length == 0) {
            return new FetchResult.Failed("empty body");
        }
        try {
            return new FetchResult.Fetched(PemCrl.toDer(body));
        } catch (IllegalArgumentException e) {
            return new FetchResult.Failed(e.getMessage());
        }
    }

    private String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CircularRedirectException) {
                return "redirect loop: " + CrlParser.describe(t);
            }
            if (t instanceof RedirectException) {
                return "too many redirects (at most " + maxRedirects + " are followed): " + CrlParser.describe(t);
            }
            if (t instanceof ConnectTimeoutException) {
                return "could not connect within " + seconds(connectTimeout) + ": " + CrlParser.describe(t);
            }
            if (t instanceof HttpHostConnectException) {
                return "could not connect: " + CrlParser.describe(t);
            }
            if (t instanceof SocketTimeoutException) {
                return "no response within " + seconds(responseTimeout) + " (response timeout)";
            }
            if (t instanceof UnknownHostException) {
                return "unknown host " + t.getMessage();
            }
            if (t instanceof SSLException) {
                return "TLS failure: " + CrlParser.describe(t);
            }
        }
        return e.getClass().getSimpleName() + ": " + CrlParser.describe(e);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String value(Header header) {
        return header == null || header.getValue().isBlank() ? null : header.getValue();
    }

    /** Aborts the fetches under way (they fail at once) and closes the HTTP client. */
    @Override
    public void close() {
        closed = true;
        active.forEach(HttpGet::cancel);
        deadlines.shutdownNow();
        client.close(CloseMode.GRACEFUL);
    }
}
