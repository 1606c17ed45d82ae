package dev.certknock.server.pipeline;

import dev.certknock.server.knock.Verdict;
import dev.certknock.server.knock.ReceivedDatagram;

import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.ReplySealer;
import dev.certknock.server.ratelimit.TokenBucket;
import dev.certknock.server.reply.KnockReplies;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.LogWriter;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.trust.ChainValidator;
import dev.certknock.server.trust.TrustStore;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/** The live pipeline over a {@link ServerFixture}, with an in-memory replay guard and the log firewall. */
final class PipelineHarness {

    static final InetSocketAddress SOURCE = new InetSocketAddress(ServerFixture.SOURCE_ADDRESS, 40000);

    final ServerFixture f;
    final ServerConfig config;
    final CrlStore crls;
    final ReplayGuard replay;
    final KnockCounters counters = new KnockCounters();
    final GrantLedger firewall;
    final KnockPipeline pipeline;
    /** The real reply component, sending into {@link #sentReplies} instead of a socket. */
    final KnockReplies replies;
    final List<SentReply> sentReplies = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A reply datagram and where it went. */
    record SentReply(InetSocketAddress to, byte[] datagram) {
    }

    PipelineHarness(ServerFixture f, String extraYaml) throws Exception {
        this(f, extraYaml, List.of(), 10_000, 10_000);
    }

    /**
     * @param intermediates intermediate CA certificates the server holds (trusted for path building,
     *     and their CRLs accepted)
     * @param replayCapacity the replay guard's capacity
     * @param firewallEntries the most elements (address and port range) the log firewall holds open
     */
    PipelineHarness(ServerFixture f, String extraYaml, List<X509Certificate> intermediates, int replayCapacity,
            int firewallEntries) throws Exception {
        this.f = f;
        this.config = ConfigLoader.parse(Path.of("test.yaml"), """
                server:
                  name: %s
                  identities: [{bundle: server.p12, passwordEnv: PW}]
                trust:
                  anchors: [ca.pem]
                protect: [tcp/22, udp/8000-8100]
                """.formatted(ServerFixture.SERVER_NAME)
                + (extraYaml.contains("limits:") ? "" : "limits:\n  perSourcePerSecond: 1000\n  perSourceBurst: 1000\n")
                + extraYaml, Path.of("/tmp"));
        TrustStore trust = new TrustStore(List.of(f.ca.certificate()), intermediates);
        this.crls = new CrlStore(trust.caCertificates(), f.clock, config.crl().staleGrace());
        this.replay = ReplayGuard.inMemory(config.knock().timestampWindow(), replayCapacity, f.clock,
                f.clock.monotonic());
        KnockEventListener listener = KnockEventListener.composite(List.of(counters));
        this.firewall = new GrantLedger(new LogWriter(), new GrantLedger.Settings(firewallEntries,
                Math.min(config.firewall().maxElementsPerCertificate(), firewallEntries), false), f.clock, listener);
        ChainValidator chains = new ChainValidator(trust, crls::generation, 1000);
        var parts = new PipelineFactory.Parts(config, KnockOpener.of(f.serverKey), chains, crls, replay, firewall, f.clock,
                f.clock.monotonic());
        this.replies = new KnockReplies(new ReplySealer(new java.security.SecureRandom()),
                (to, d) -> sentReplies.add(new SentReply(to, d)),
                new TokenBucket(config.knock().repliesPerSecond(), 2.0 * config.knock().repliesPerSecond(), f.clock.monotonic()));
        this.pipeline = new KnockPipeline(PipelineFactory.live(parts), listener, f.clock, replies);
    }

    PipelineHarness(ServerFixture f) throws Exception {
        this(f, "");
    }

    PipelineHarness withCrl(X509CRL crl) {
        var r = crls.offer(encoded(crl), "test");
        if (!(r instanceof dev.certknock.server.crl.CrlUpdate.Accepted)) {
            throw new IllegalStateException("test CRL not accepted: " + r);
        }
        return this;
    }

    static byte[] encoded(X509CRL crl) {
        try {
            return crl.getEncoded();
        } catch (java.security.cert.CRLException e) {
            throw new IllegalStateException(e);
        }
    }

    Verdict process(byte[] datagram) {
        return process(datagram, SOURCE);
    }

    Verdict process(byte[] datagram, InetSocketAddress source) {
        return pipeline.process(ReceivedDatagram.of(datagram, source, f.clock.instant()));
    }

    /** Time passes: the wall clock and the monotonic clock move together. */
    void advance(Duration d) {
        f.clock.advance(d);
    }
}
