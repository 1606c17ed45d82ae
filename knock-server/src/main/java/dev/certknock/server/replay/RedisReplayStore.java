package dev.certknock.server.replay;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.RedisCommandTimeoutException;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway group's replay state in Redis (docs/DESIGN.md D36), through Lettuce: one
 * {@code SET certknock:replay:<hex(fingerprint || nonce)> <server name> NX PX <ttl>} per knock, answered within
 * a deadline or not at all.
 *
 * <p><b>Fails closed.</b> A knock is {@link SharedClaim.Unavailable} (dropped {@code REPLAY_STORE_UNAVAILABLE})
 * while the store is not connected, when its {@code SET} gets no answer within the deadline, and from then on
 * without waiting, until a probe ({@code PING} every {@link #PROBE_INTERVAL}) gets an answer: a Redis that hangs
 * costs the knocks in flight one deadline, not every knock one. Claims do not hold the caller
 * ({@link #claimAsync}, docs/DESIGN.md D39): the deadline is kept on this store's timer. Each outage is logged once,
 * when it starts (WARN) and when it ends (INFO, with how many knocks were refused meanwhile).
 *
 * <p><b>Never stalls start-up.</b> The connection is made in the background by the probe; until it answers, knocks
 * are refused. Lettuce reconnects a lost connection on its own (every {@link #PROBE_INTERVAL}) and rejects
 * commands while disconnected, so they fail at once rather than queue.
 *
 * <p>Threads: Lettuce's I/O and computation pools at their minimum (2 each), and a timer ticking every
 * {@value #TIMER_TICK_MILLIS} ms, shared by nothing else. The password
 * of the URI is never logged: {@link #describe()} and every message go through {@link #redact(String)}.
 */
public final class RedisReplayStore implements SharedReplay {

    private static final Logger LOG = LoggerFactory.getLogger(RedisReplayStore.class);

    /** Every key the store sets starts with this. */
    public static final String KEY_PREFIX = "certknock:replay:";
    /** How often a store that does not answer is probed (and a lost connection retried). */
    public static final Duration PROBE_INTERVAL = Duration.ofMillis(250);
    /** The URI schemes accepted for {@code knock.replayStore}. */
    public static final List<String> SCHEMES = List.of("redis", "rediss", "redis-sentinel", "rediss-sentinel");

    /** The timer's tick: claims are refused at most this long after their deadline. */
    static final long TIMER_TICK_MILLIS = 10;
    /** Commands Lettuce may hold unanswered; beyond, a claim is refused at once (docs/DESIGN.md D39). */
    static final int REQUEST_QUEUE_SIZE = 8192;
    private static final long SYNC_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(4 * TIMER_TICK_MILLIS);

    private static final Pattern USER_INFO = Pattern.compile("(?<=://)[^@/]*@");
    private static final byte[] PREFIX = KEY_PREFIX.getBytes(StandardCharsets.US_ASCII);
    private static final HexFormat HEX = HexFormat.of();

    /**
     * @param uri a Redis URI ({@link #SCHEMES}); may hold a password
     * @param deadline how long a knock waits for the store's answer
     * @param localOnlyDuringOutage grant on the local replay state alone while the store does not answer
     * @param serverName stored as the value, so an operator can see which gateway claimed a knock
     */
    public record Settings(String uri, Duration deadline, boolean localOnlyDuringOutage, String serverName) {
        public Settings {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(deadline, "deadline");
            Objects.requireNonNull(serverName, "serverName");
        }
    }

    private final Settings settings;
    private final String display;
    private final byte[] value;
    private final ClientResources resources;
    private final HashedWheelTimer timer;
    private final RedisClient client;
    private final RedisURI redisUri;
    private final ScheduledFuture<?> probe;
    private final AtomicBoolean connecting = new AtomicBoolean();
    private final AtomicBoolean pinging = new AtomicBoolean();
    /** System.nanoTime() when the current outage began, or 0. */
    private final AtomicLong outageSince = new AtomicLong();
    private final AtomicBoolean localOnlyWarned = new AtomicBoolean();
    private final LongAdder refusedInOutage = new LongAdder();
    private volatile StatefulRedisConnection<byte[], byte[]> connection;
    private volatile boolean up;
    private volatile boolean closed;

    private RedisReplayStore(Settings settings) {
        this.settings = settings;
        this.display = redact(settings.uri());
        this.redisUri = parse(settings.uri());
        this.value = settings.serverName().getBytes(StandardCharsets.UTF_8);
        // The handshake (HELLO, AUTH, SELECT) gets a little longer than a knock's command, and never stalls a knock.
        redisUri.setTimeout(max(settings.deadline(), Duration.ofSeconds(1)));
        // Daemon threads, so a server that fails to start is not kept alive by them.
        // A 10 ms tick: a claim's deadline is kept to that precision (the default tick is 100 ms).
        this.timer = new HashedWheelTimer(new DefaultThreadFactory("certknock-redis-timer", true), TIMER_TICK_MILLIS,
                TimeUnit.MILLISECONDS);
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(DefaultClientResources.MIN_IO_THREADS)
                .computationThreadPoolSize(DefaultClientResources.MIN_COMPUTATION_THREADS)
                .reconnectDelay(Delay.constant(PROBE_INTERVAL))
                .timer(timer)
                .threadFactoryProvider(pool -> new DefaultThreadFactory("certknock-redis-" + pool, true))
                .build();
        this.client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(REQUEST_QUEUE_SIZE)
                // Each command's deadline is kept by this class, on its timer: Lettuce's would be a second timer entry.
                .timeoutOptions(TimeoutOptions.builder().timeoutCommands(false).build())
                .socketOptions(SocketOptions.builder().connectTimeout(max(settings.deadline(), Duration.ofSeconds(1)))
                        .keepAlive(true).build())
                .build());
        LOG.info("replay store {}: connecting in the background; knocks are refused (REPLAY_STORE_UNAVAILABLE) until it "
                + "answers", display);
        this.probe = resources.eventExecutorGroup().scheduleWithFixedDelay(this::probe, 0,
                PROBE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A store for {@code settings}, connecting in the background: returns at once, whether Redis answers or not.
     *
     * @throws IllegalArgumentException if the URI is not one {@link #check(String)} accepts (the message is redacted)
     */
    public static RedisReplayStore start(Settings settings) {
        return new RedisReplayStore(settings);
    }

    /**
     * Why {@code uri} cannot be a replay store, or null if it can: a scheme of {@link #SCHEMES} and what Lettuce
     * parses. The message never holds the password.
     */
    public static String check(String uri) {
        try {
            parse(uri);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static RedisURI parse(String uri) {
        int colon = uri.indexOf("://");
        String scheme = colon < 0 ? "" : uri.substring(0, colon).toLowerCase(Locale.ROOT);
        if (!SCHEMES.contains(scheme)) {
            throw new IllegalArgumentException("the replay store is 'local' or a Redis URI (" + String.join("://, ", SCHEMES)
                    + "://), not " + redact(uri));
        }
        if (scheme.endsWith("-sentinel") && uri.indexOf('#') < 0) {
            throw new IllegalArgumentException("a Sentinel URI names its master after '#', e.g. "
                    + "redis-sentinel://host1:26379,host2:26379/0#mymaster, not " + redact(uri));
        }
        try {
            RedisURI parsed = RedisURI.create(uri);
            if (parsed.getSentinels().isEmpty() && (parsed.getHost() == null || parsed.getHost().isEmpty())) {
                throw new IllegalArgumentException("no host");
            }
            if (!parsed.getSentinels().isEmpty() && (parsed.getSentinelMasterId() == null
                    || parsed.getSentinelMasterId().isEmpty())) {
                throw new IllegalArgumentException("a Sentinel URI names its master after '#'");
            }
            return parsed;
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalArgumentException("cannot read the Redis URI " + redact(uri) + ": "
                    + scrub(why, uri) + " (e.g. redis://host:6379/0, rediss://:password@host:6380, "
                    + "redis-sentinel://host1:26379,host2:26379/0#mymaster)");
        }
    }

    /** {@code uri} with its user information (user and password) replaced by {@code ***}. */
    public static String redact(String uri) {
        return uri == null ? null : USER_INFO.matcher(uri).replaceFirst("***@");
    }

    /** The Redis key of a replay key: {@link #KEY_PREFIX} and the hex of fingerprint || nonce. */
    public static byte[] redisKey(ReplayKey key) {
        byte[] hex = (HEX.formatHex(key.leafFingerprint()) + HEX.formatHex(key.nonce())).getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[PREFIX.length + hex.length];
        System.arraycopy(PREFIX, 0, out, 0, PREFIX.length);
        System.arraycopy(hex, 0, out, PREFIX.length, hex.length);
        return out;
    }

    @Override
    public SharedClaim claim(ReplayKey key, long ttlMillis) {
        CompletableFuture<SharedClaim> answer = claimAsync(key, ttlMillis);
        try {
            // claimAsync's timer answers within the deadline (and one timer tick); this bound is a second guard.
            return answer.get(settings.deadline().toNanos() + SYNC_GRACE_NANOS, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return settle(answer, null);
        } catch (ExecutionException e) {
            return settle(answer, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutting down: refused, but not an outage of the store
            return refuse();
        }
    }

    /**
     * One {@code SET NX PX} sent without waiting: the future completes on Lettuce's I/O thread with the answer, or on
     * the store's timer with a refusal when no answer came within the deadline (docs/DESIGN.md D39). An answer that
     * comes after the refusal changes nothing: the knock stays refused. Never completes exceptionally.
     */
    @Override
    public CompletableFuture<SharedClaim> claimAsync(ReplayKey key, long ttlMillis) {
        StatefulRedisConnection<byte[], byte[]> c = connection;
        if (closed || c == null || !up) {
            return CompletableFuture.completedFuture(refuse());
        }
        CompletableFuture<SharedClaim> result = new CompletableFuture<>();
        RedisFuture<String> f;
        try {
            f = c.async().set(redisKey(key), value, SetArgs.Builder.nx().px(Math.max(1, ttlMillis)));
        } catch (RuntimeException e) {
            failed(e);
            return CompletableFuture.completedFuture(refuse());
        }
        Timeout deadline = timer.newTimeout(t -> {
            if (!result.isDone()) {
                f.cancel(false);
                settle(result, null);
            }
        }, settings.deadline().toNanos(), TimeUnit.NANOSECONDS);
        f.whenComplete((answer, err) -> {
            deadline.cancel();
            if (err == null) {
                if (result.complete("OK".equals(answer) ? SharedClaim.CLAIMED : SharedClaim.ALREADY_CLAIMED)) {
                    answered();
                }
            } else {
                settle(result, err instanceof RedisCommandTimeoutException
                        || err instanceof java.util.concurrent.CancellationException ? null : err);
            }
        });
        return result;
    }

    /**
     * Completes {@code result} with a refusal (or the local-only grant where allowed) unless it is complete already,
     * and counts and logs the failure once; returns what {@code result} holds.
     *
     * @param cause what went wrong, or null for no answer within the deadline
     */
    private SharedClaim settle(CompletableFuture<SharedClaim> result, Throwable cause) {
        SharedClaim refusal = settings.localOnlyDuringOutage() ? SharedClaim.LOCAL_ONLY : SharedClaim.UNAVAILABLE;
        if (!result.isDone()) {
            // The store is marked down before the refusal completes the claim: a knock that its caller handles next
            // is refused at once, not sent to wait a deadline of its own (completing first woke the caller before
            // the store was marked down). An answer that lands between the two, at the deadline itself, finds the
            // store marked down until the next probe: an answer that late counts as none.
            failed(cause);
        }
        if (result.complete(refusal)) {
            refuse();
        }
        return result.getNow(refusal);
    }

    @Override
    public String describe() {
        return display;
    }

    @Override
    public boolean available() {
        return up;
    }

    /** Knocks refused (or let through local-only) since the current outage began; 0 when the store answers. */
    public long refusedInOutage() {
        return refusedInOutage.sum();
    }

    private SharedClaim refuse() {
        refusedInOutage.increment();
        if (!settings.localOnlyDuringOutage()) {
            return SharedClaim.UNAVAILABLE;
        }
        if (localOnlyWarned.compareAndSet(false, true)) {
            LOG.warn("replay store {} does not answer: knocks are granted on this gateway's replay state alone "
                    + "(knock.replayStoreOutage: local-only), so a knock captured here can be replayed at another "
                    + "gateway of the group until the store answers", display);
        }
        return SharedClaim.LOCAL_ONLY;
    }

    private void answered() {
        if (up) {
            return;
        }
        up = true;
        long since = outageSince.getAndSet(0);
        long refused = refusedInOutage.sumThenReset();
        localOnlyWarned.set(false);
        if (since != 0) {
            LOG.info("replay store {} answers again after {} ms; {} knocks were {} meanwhile", display,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since), refused,
                    settings.localOnlyDuringOutage() ? "granted on the local replay state alone" : "refused");
        } else {
            LOG.info("replay store {} answers; knocks are checked against it", display);
        }
    }

    /** @param cause what went wrong, or null for no answer within the deadline */
    private void failed(Throwable cause) {
        up = false;
        if (outageSince.compareAndSet(0, System.nanoTime() | 1)) {
            String why = cause == null ? "no answer within " + settings.deadline().toMillis() + " ms" : describe(cause);
            LOG.warn("replay store {} does not answer ({}): knocks are {} until it does", display, why,
                    settings.localOnlyDuringOutage() ? "granted on the local replay state alone"
                            : "refused (REPLAY_STORE_UNAVAILABLE)");
        }
    }

    private String describe(Throwable t) {
        String m = t.getMessage();
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        if (root != t && root.getMessage() != null) {
            text += " (" + root.getMessage() + ")";
        }
        return scrub(text, settings.uri());
    }

    /** Removes the URI's password from a message (Lettuce's messages may quote the URI). */
    private static String scrub(String text, String uri) {
        String out = USER_INFO.matcher(text).replaceAll("***@");
        java.util.regex.Matcher m = USER_INFO.matcher(uri);
        if (m.find()) {
            String info = m.group();
            info = info.substring(0, info.length() - 1);
            String pw = info.substring(info.indexOf(':') + 1);
            if (pw.length() >= 3) {
                out = out.replace(pw, "***");
                try {
                    out = out.replace(java.net.URLDecoder.decode(pw, StandardCharsets.UTF_8), "***");
                } catch (IllegalArgumentException e) {
                    // not %-encoded: replaced as written above
                }
            }
        }
        return out.replaceAll("[\\p{Cntrl}]", "?");
    }

    private void probe() {
        if (closed) {
            return;
        }
        StatefulRedisConnection<byte[], byte[]> c = connection;
        if (c == null) {
            if (!connecting.compareAndSet(false, true)) {
                return;
            }
            client.connectAsync(ByteArrayCodec.INSTANCE, redisUri).whenComplete((conn, err) -> {
                connecting.set(false);
                if (err != null) {
                    failed(err);
                } else if (closed) {
                    conn.closeAsync();
                } else {
                    connection = conn;
                    answered();
                }
            });
            return;
        }
        if (!pinging.compareAndSet(false, true)) {
            return;
        }
        try {
            RedisFuture<String> ping = c.async().ping();
            Timeout deadline = timer.newTimeout(t -> {
                if (!ping.isDone()) {
                    ping.cancel(false);
                }
            }, settings.deadline().toNanos(), TimeUnit.NANOSECONDS);
            ping.whenComplete((pong, err) -> {
                deadline.cancel();
                pinging.set(false);
                if (err != null) {
                    failed(err instanceof RedisCommandTimeoutException
                            || err instanceof java.util.concurrent.CancellationException ? null : err);
                } else {
                    answered();
                }
            });
        } catch (RuntimeException e) {
            pinging.set(false);
            failed(e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        probe.cancel(false);
        StatefulRedisConnection<byte[], byte[]> c = connection;
        try {
            if (c != null) {
                c.close();
            }
            client.shutdown(0, 2, TimeUnit.SECONDS);
        } catch (RuntimeException e) {
            LOG.debug("replay store {}: closing: {}", display, scrub(e.toString(), settings.uri()));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            timer.stop();
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
