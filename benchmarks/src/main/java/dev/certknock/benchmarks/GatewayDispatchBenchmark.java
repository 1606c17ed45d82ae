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
import dev.certknock.server.dispatch.KnockDispatcher;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.LogWriter;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Verdict;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.replay.RedisReplayStore;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.SharedReplay;
import dev.certknock.server.trust.ChainValidator;
import dev.certknock.server.trust.TrustStore;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.redis.RedisServer;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Valid knocks through the server's own {@link KnockDispatcher} and live pipeline (rate limits, public-key budget,
 * every check, {@code ReplayCommit}, {@code GrantIssue} on the log-only firewall), with the local replay state alone
 * or with a gateway group's Redis on loopback ({@code redis-server} started by the benchmark), as the server runs
 * them: {@code limits.workers} worker threads, and a claim that does not hold its worker (docs/DESIGN.md D39).
 *
 * <p>One benchmark thread plays the capture: it offers knocks and keeps {@link #IN_FLIGHT} of them in the
 * dispatcher (offered, not yet accepted or dropped); one operation is one knock offered, so in the steady state
 * operations per second are knocks completed per second. Every knock is new (sealed in the set-up, spread over
 * {@link #SOURCES} source addresses that each knock signs), so each is committed locally and, with Redis, claimed
 * there. Any knock that is not accepted fails the trial.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GatewayDispatchBenchmark {

    /** Knocks offered and not yet decided, at most. */
    static final int IN_FLIGHT = 64;
    static final int SOURCES = 16;
    private static final String SERVER_NAME = "gw1.bench.test";

    /** {@code local} or {@code redis}. */
    @Param({"local", "redis"})
    public String replay;

    /** {@code limits.workers}; the server's default is the number of CPUs. */
    @Param({"1", "2"})
    public int workers;

    /** Knocks sealed in the set-up: more than a trial offers. */
    @Param({"90000"})
    public int knocks;

    private Path dir;
    private RedisServer redis;
    private SharedReplay store = SharedReplay.LOCAL;
    private KnockDispatcher dispatcher;
    private ReceivedDatagram[] pool;
    private int next;
    private final Semaphore window = new Semaphore(IN_FLIGHT);
    private final LongAdder accepted = new LongAdder();
    private final Map<String, LongAdder> drops = new ConcurrentHashMap<>();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Clock clock = Clock.systemUTC();
        if (replay.equals("redis")) {
            dir = Files.createTempDirectory("certknock-dispatch-bench");
            redis = RedisServer.start(dir);
            RedisReplayStore s = RedisReplayStore.start(new RedisReplayStore.Settings(redis.uri(),
                    Duration.ofMillis(100), false, SERVER_NAME));
            store = s;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!s.available()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the replay store did not answer within 10 s");
                }
                Thread.sleep(10);
            }
        } else if (!replay.equals("local")) {
            throw new IllegalArgumentException("replay is local or redis, not " + replay);
        }
        BenchPki pki = BenchPki.of(clock, SERVER_NAME, KeyType.P256, KeyType.P256);
        TestCa ca = pki.ca();
        IssuedCertificate server = pki.server();
        ServerPrivateKey serverKey = pki.serverKey();
        IssuedCertificate client = pki.client();
        ServerConfig config = pki.config("knock:\n  timestampWindow: 10m\nlimits:\n  publicKeyOpsPerSecond: 1000000\n  queueCapacity: 4096\n  workers: " + workers + "\n");
        CrlStore crls = pki.crls(clock, config);
        ReplayGuard guard = ReplayGuard.inMemory(Duration.ofMinutes(10), 4 * knocks, clock);
        KnockEventListener done = new KnockEventListener() {
            @Override
            public void accepted(Verdict.Accepted verdict, KnockView context) {
                accepted.increment();
                window.release();
            }

            @Override
            public void dropped(Verdict.Dropped verdict, KnockView context) {
                drops.computeIfAbsent(verdict.reason().name(), r -> new LongAdder()).increment();
                window.release();
            }
        };
        GrantLedger firewall = new GrantLedger(new LogWriter(), new GrantLedger.Settings(10_000_000, 10_000_000, false),
                clock, new KnockEventListener() { });
        KnockPipeline pipeline = new KnockPipeline(PipelineFactory.live(new PipelineFactory.Parts(config,
                KnockOpener.of(serverKey), new ChainValidator(new TrustStore(List.of(ca.certificate()), List.of()),
                crls::generation, 1000), crls, guard, firewall, clock, System::nanoTime, store)), done, clock);
        ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
        pool = new ReceivedDatagram[knocks];
        AtomicInteger failures = new AtomicInteger();
        IntStream.range(0, knocks).parallel().forEach(i -> {
            try {
                InetSocketAddress source = new InetSocketAddress(InetAddress.getByAddress(
                        new byte[] {(byte) 198, 51, 100, (byte) (1 + i % SOURCES)}), 40000);
                byte[] datagram = new KnockSealer(cred, serverKey.publicKey(), clock, new SecureRandom())
                        .seal(KnockRequest.of(60, List.of(PortGrant.parse("tcp/22")))
                                .withDeclaredIpv4((Inet4Address) source.getAddress())).datagram();
                pool[i] = ReceivedDatagram.of(datagram, source, clock.instant());
            } catch (Exception e) {
                failures.incrementAndGet();
            }
        });
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " knocks could not be sealed");
        }
        dispatcher = new KnockDispatcher(pipeline, new KnockCounters(), config.limits().queueCapacity(),
                config.limits().workers());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        window.acquire(IN_FLIGHT); // every offered knock decided
        dispatcher.close();
        store.close();
        if (redis != null) {
            redis.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.out.printf("%n[%s, %d workers] accepted %d, dropped %s%n", replay, workers, accepted.sum(), drops);
        if (!drops.isEmpty()) {
            throw new IllegalStateException("knocks were dropped: " + drops);
        }
    }

    /** Offers the next knock once fewer than {@link #IN_FLIGHT} are undecided. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    public boolean knock() throws InterruptedException {
        window.acquire();
        if (next == pool.length) {
            throw new IllegalStateException("all " + pool.length + " knocks offered: raise -p knocks");
        }
        if (!dispatcher.offer(pool[next++])) {
            window.release();
            throw new IllegalStateException("the dispatcher's queue refused a knock");
        }
        return true;
    }
}
