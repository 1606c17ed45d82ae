package dev.certknock.benchmarks;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.LogWriter;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Verdict;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.replay.CommitResult;
import dev.certknock.server.replay.RedisReplayStore;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.ReplayKey;
import dev.certknock.server.replay.SharedClaim;
import dev.certknock.server.trust.ChainValidator;
import dev.certknock.server.trust.TrustStore;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.redis.RedisServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The gateway group's replay check (docs/DESIGN.md D36) through a real {@code redis-server} on loopback, started
 * by the benchmark ({@code --save '' --appendonly no}), beside the local one:
 * <ul>
 *   <li>{@link #localCommit} / {@link #redisClaim}: one replay commit of a new key, the local {@link ReplayGuard}
 *       (in memory) or one {@code SET NX PX} through {@link RedisReplayStore}; run in sample mode for p50/p99;</li>
 *   <li>{@link #validKnockLocalReplay} / {@link #validKnockRedisReplay}: a valid knock through every check of the
 *       pipeline (cached chain, P-256 server key and client), then the replay commit of a new key: local only, or
 *       local and then Redis, as {@code ReplayCommit} does. Run in throughput mode.</li>
 * </ul>
 * A new key per call: a real knock's (certificate, nonce) is new, and the same datagram would be a replay. The
 * knock itself is the same datagram every call (sealing a new one costs more than opening it).
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ReplayStoreBenchmark {

    private static final String SERVER_NAME = "gw1.bench.test";
    private static final InetSocketAddress SOURCE = new InetSocketAddress("198.51.100.7", 40000);
    private static final Duration DEADLINE = Duration.ofMillis(100);
    private static final long TTL_MILLIS = 95_000;

    private final AtomicLong counter = new AtomicLong();
    private final long run = new SecureRandom().nextLong();
    private Path dir;
    private RedisServer redis;
    private RedisReplayStore store;
    private ReplayGuard guard;
    private KnockPipeline pipeline;
    private Clock clock;
    private byte[] valid;

    @Setup
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("certknock-redis-bench");
        redis = RedisServer.start(dir);
        store = RedisReplayStore.start(new RedisReplayStore.Settings(redis.uri(), DEADLINE, false, SERVER_NAME));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!store.available()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the replay store did not answer within 10 s");
            }
            Thread.sleep(10);
        }
        clock = Clock.systemUTC();
        BenchPki pki = BenchPki.of(clock, SERVER_NAME, KeyType.P256, KeyType.P256);
        TestCa ca = pki.ca();
        IssuedCertificate server = pki.server();
        ServerPrivateKey serverKey = pki.serverKey();
        IssuedCertificate client = pki.client();
        ServerConfig config = pki.config("knock:\n  timestampWindow: 10m\n");
        CrlStore crls = pki.crls(clock, config);
        ReplayGuard lookups = ReplayGuard.inMemory(Duration.ofMinutes(10), 1000, clock);
        freshGuard();
        KnockEventListener none = new KnockEventListener() { };
        GrantLedger firewall = new GrantLedger(new LogWriter(), new GrantLedger.Settings(1_000_000, 1_000_000, false),
                clock, none);
        pipeline = new KnockPipeline(PipelineFactory.dryRun(new PipelineFactory.Parts(config, KnockOpener.of(serverKey),
                new ChainValidator(new TrustStore(List.of(ca.certificate()), List.of()), crls::generation, 1000), crls,
                lookups, firewall, clock)), none, clock);
        ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
        valid = new KnockSealer(cred, serverKey.publicKey(), clock, new SecureRandom())
                .seal(KnockRequest.of(60, List.of(PortGrant.parse("tcp/22")))
                        .withDeclaredIpv4((java.net.Inet4Address) SOURCE.getAddress())).datagram();
        if (!(pipeline.process(ReceivedDatagram.of(valid, SOURCE, clock.instant())) instanceof Verdict.Accepted)) {
            throw new IllegalStateException("the benchmark knock is not valid");
        }
        if (validKnockRedisReplay() != 2) {
            throw new IllegalStateException("the Redis replay path does not claim");
        }
    }

    /**
     * A new local guard every iteration: entries live the window (1 s) and the margin (5 s), and a million commits a
     * second would otherwise hold gigabytes.
     */
    @Setup(org.openjdk.jmh.annotations.Level.Iteration)
    public void freshGuard() {
        guard = ReplayGuard.inMemory(Duration.ofSeconds(1), 50_000_000, clock);
    }

    @TearDown
    public void tearDown() throws Exception {
        store.close();
        redis.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private ReplayKey nextKey() {
        long n = counter.incrementAndGet();
        return new ReplayKey(run, n, 0x5eedL, n * 31, n, run ^ n);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public CommitResult localCommit() {
        return guard.commit(nextKey(), clock.millis());
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public SharedClaim redisClaim() {
        SharedClaim c = store.claim(nextKey(), TTL_MILLIS);
        if (c != SharedClaim.CLAIMED) {
            throw new IllegalStateException("expected a claim, got " + c);
        }
        return c;
    }

    /** @return 1 when the knock passed its checks and the local commit */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    public int validKnockLocalReplay() {
        Verdict v = pipeline.process(ReceivedDatagram.of(valid, SOURCE, clock.instant()));
        return (v instanceof Verdict.Accepted ? 1 : 0)
                & (guard.commit(nextKey(), clock.millis()) instanceof CommitResult.Committed ? 1 : 0);
    }

    /** @return 2 when the knock passed its checks, the local commit and the Redis claim */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    public int validKnockRedisReplay() {
        Verdict v = pipeline.process(ReceivedDatagram.of(valid, SOURCE, clock.instant()));
        ReplayKey key = nextKey();
        CommitResult local = guard.commit(key, clock.millis());
        if (!(v instanceof Verdict.Accepted) || !(local instanceof CommitResult.Committed c)) {
            return 0;
        }
        return store.claim(key, c.expiresAtMillis() - clock.millis() + 1000)
                == SharedClaim.CLAIMED ? 2 : 1;
    }
}
