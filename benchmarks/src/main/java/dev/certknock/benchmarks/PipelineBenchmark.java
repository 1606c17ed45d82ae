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
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Verdict;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.trust.ChainValidator;
import dev.certknock.server.trust.TrustStore;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The server's whole validation pipeline, per datagram, beside the primitives of {@link PrimitivesBaseline}
 * in the same run:
 * <ul>
 *   <li>{@link #validKnockCachedChain}: a valid knock whose chain validation is cached (a returning client);</li>
 *   <li>{@link #validKnockUncachedChain}: the same with the chain cache disabled (Bouncy Castle PKIX each time);</li>
 *   <li>{@link #junkAtFrame}: random bytes, dropped at the frame stage;</li>
 *   <li>{@link #wellFormedJunkAtHpke}: a right header with a broken ciphertext, dropped after one DH.</li>
 * </ul>
 * Valid knocks run the dry-run pipeline (every check, no replay record, no firewall), since the replay
 * commit would refuse the same datagram twice; the two stages it leaves out are a hash-map insert and the
 * firewall call. The junk cases run the live pipeline, with limits high enough not to interfere.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PipelineBenchmark {

    private static final String SERVER_NAME = "gw1.bench.test";
    private static final Duration ONE_MS = Duration.ofMillis(1);
    private static final InetSocketAddress SOURCE = new InetSocketAddress("198.51.100.7", 40000);

    @Param({"P256/P256", "X25519/Ed25519"})
    public String keys;

    private MutableClock clock;
    private KnockPipeline cached;
    private KnockPipeline uncached;
    private KnockPipeline live;
    private byte[] valid;
    private byte[] junk;
    private byte[] wellFormedJunk;

    @Setup
    public void setUp() throws Exception {
        KeyType serverType = keys.startsWith("P256") ? KeyType.P256 : KeyType.X25519;
        KeyType clientType = keys.endsWith("P256") ? KeyType.P256 : KeyType.ED25519;
        clock = MutableClock.at(Instant.parse("2026-11-22T10:00:00Z"));
        BenchPki pki = BenchPki.of(clock, SERVER_NAME, serverType, clientType);
        TestCa ca = pki.ca();
        IssuedCertificate server = pki.server();
        ServerPrivateKey serverKey = pki.serverKey();
        IssuedCertificate client = pki.client();
        ServerConfig config = pki.config("limits:\n  perSourcePerSecond: 100000\n  perSourceBurst: 100000\n  publicKeyOpsPerSecond: 1000000\n");
        CrlStore crls = pki.crls(clock, config);
        KnockOpener opener = KnockOpener.of(serverKey);
        TrustStore trust = new TrustStore(List.of(ca.certificate()), List.of());
        ReplayGuard replay = ReplayGuard.inMemory(config.knock().timestampWindow(), 1_000_000, clock);
        KnockEventListener none = new KnockEventListener() { };
        GrantLedger firewall = new GrantLedger(new LogWriter(), new GrantLedger.Settings(1_000_000, 1_000_000, false),
                clock, none);
        cached = new KnockPipeline(PipelineFactory.dryRun(new PipelineFactory.Parts(config, opener,
                new ChainValidator(trust, crls::generation, 1000), crls, replay, firewall, clock)), none, clock);
        uncached = new KnockPipeline(PipelineFactory.dryRun(new PipelineFactory.Parts(config, opener,
                new ChainValidator(trust, crls::generation, 0), crls, replay, firewall, clock)), none, clock);
        live = new KnockPipeline(PipelineFactory.live(new PipelineFactory.Parts(config, opener,
                new ChainValidator(trust, crls::generation, 1000), crls, replay, firewall, clock)), none, clock);

        ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
        valid = new KnockSealer(cred, serverKey.publicKey(), clock, new SecureRandom())
                .seal(KnockRequest.of(60, List.of(PortGrant.parse("tcp/22")))
                        .withDeclaredIpv4((java.net.Inet4Address) SOURCE.getAddress())).datagram();
        wellFormedJunk = valid.clone();
        wellFormedJunk[wellFormedJunk.length - 20] ^= 1;
        junk = new byte[valid.length];
        new java.util.Random(42).nextBytes(junk);
        junk[0] = 0x7f;
        expect(cached.process(datagram(valid)), null);
        expect(uncached.process(datagram(valid)), null);
        expect(live.process(datagram(junk)), "UNSUPPORTED_VERSION");
        expect(live.process(datagram(wellFormedJunk)), "DECRYPTION_FAILED");
    }

    private static void expect(Verdict v, String dropReason) {
        boolean ok = dropReason == null ? v instanceof Verdict.Accepted
                : v instanceof Verdict.Dropped d && d.reason().name().equals(dropReason);
        if (!ok) {
            throw new IllegalStateException("benchmark input does not behave as intended: " + v);
        }
    }

    private ReceivedDatagram datagram(byte[] bytes) {
        return ReceivedDatagram.of(bytes, SOURCE, clock.instant());
    }

    @Benchmark
    public Verdict validKnockCachedChain() {
        return cached.process(datagram(valid));
    }

    @Benchmark
    public Verdict validKnockUncachedChain() {
        return uncached.process(datagram(valid));
    }

    @Benchmark
    public Verdict junkAtFrame() {
        return live.process(datagram(junk));
    }

    /**
     * The clock moves 1 ms a call: this junk passes the rate limits (they come before HPKE), whose token
     * buckets refill from the clock. On a frozen clock the per-source burst ran out after about 100,000
     * calls and the rest measured the cheap SOURCE_RATE_LIMITED drop instead (seen: 8.5 k/s, then 502 k/s).
     */
    @Benchmark
    public Verdict wellFormedJunkAtHpke() {
        clock.advance(ONE_MS);
        return live.process(datagram(wellFormedJunk));
    }
}
