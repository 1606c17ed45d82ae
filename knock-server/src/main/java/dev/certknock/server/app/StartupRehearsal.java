package dev.certknock.server.app;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.ReplySealer;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.server.capture.pcap.FrameParser;
import dev.certknock.server.capture.pcap.LinkType;
import dev.certknock.server.capture.pcap.ParseResult;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.crl.CrlUpdate;
import dev.certknock.server.dispatch.KnockDispatcher;
import dev.certknock.server.event.AuditLog;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Replier;
import dev.certknock.server.knock.Verdict;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.ratelimit.TokenBucket;
import dev.certknock.server.reply.KnockReplies;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.trust.ChainValidator;
import dev.certknock.server.trust.TrustStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the first real knock after start as fast as the rest (docs/DESIGN.md D16): before capture starts, whole
 * knocks are rehearsed through a pipeline that {@link PipelineFactory#live} builds exactly as it builds the live
 * one, with the server's own configuration and knock keys, handed over by a {@link KnockDispatcher} as capture
 * hands them over. Only what a knock would change or trust is throwaway:
 * <ul>
 * <li>a CA and two client certificates (ECDSA P-256 and Ed25519, granting the first protected port) made in memory
 *     for this run alone, with an empty CRL of that CA; the CA is trusted by the rehearsal's validator only, never
 *     by the server, so the material could not open anything even if it leaked;</li>
 * <li>a replay guard of its own (its journal in a temporary directory beside the real journal, deleted after);</li>
 * <li>the firewall: {@link GrantLedger#rehearsal}, a ledger of its own whose writer only checks each batch with
 *     the server's backend (nftables: a dry run over the grant path's netlink socket, or {@code nft -c} through the
 *     same libnftables context) and changes no element;</li>
 * <li>counters, audit log (to nowhere) and replies (sealed, not sent) of its own;</li>
 * <li>source and declared addresses from the documentation ranges (RFC 5737, RFC 3849), which never reach the
 *     network: the datagrams are handed to the dispatcher in memory.</li>
 * </ul>
 * Rate limits and the public-key budget of the rehearsal run on a clock that advances a second per reading, so
 * they never refuse a rehearsal knock. Every knock is expected to be accepted; fewer is logged as a warning with
 * the reasons. A failure here never stops the server.
 */
final class StartupRehearsal {

    private static final Logger LOG = LoggerFactory.getLogger(StartupRehearsal.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String CA_NAME = "CN=certknock start-up rehearsal CA (throwaway)";
    /** How long one rehearsal knock may take before the rehearsal gives up (the server starts anyway). */
    private static final Duration KNOCK_DEADLINE = Duration.ofSeconds(5);
    /** Distinct source addresses at most: fewer than the default per-certificate element limit (256). */
    private static final int MAX_SOURCES = 200;

    private StartupRehearsal() {
    }

    /**
     * What a rehearsal did: knocks handed to the dispatcher, how many were accepted (a grant checked with the
     * backend), why the others were dropped, and how long it took.
     */
    record Result(int knocks, int accepted, Map<DropReason, Integer> dropped, Duration took) {
    }

    /**
     * What to rehearse: {@code rounds} whole knocks per server key and client key type, then {@code junk} well-formed
     * junk datagrams per server key (a sealed knock with its last ciphertext bit flipped: it fails HPKE's open, as a
     * flood of well-formed junk does); how many batches the backend checks (a dry run takes the server ledger's
     * lock); whether the replay journal is rehearsed beside the real one; whether the rehearsal's threads run at the
     * lowest CPU priority.
     */
    record Plan(int rounds, int junk, int backendChecks, boolean journal, boolean lowPriority) {
        Plan {
            if (rounds < 0 || junk < 0 || backendChecks < 0) {
                throw new IllegalArgumentException("negative count in " + this);
            }
        }

        /** Before capture starts: whole knocks, the backend's checks and the journal; the first knock is fast. */
        static Plan atStart(int rounds) {
            return new Plan(rounds, 0, Integer.MAX_VALUE, true, false);
        }

        /**
         * After start, beside live knocks: more knocks and well-formed junk at the lowest CPU priority, never taking
         * the server ledger's lock and writing no file, so that the JIT compiles what a flood runs before one comes.
         */
        static Plan inBackground(int rounds, int junk) {
            return new Plan(rounds, junk, 0, false, true);
        }
    }

    /** Distinct sources of the junk, in turn, so that no source has more than one datagram queued. */
    private static final int JUNK_SOURCES = 100;
    /**
     * Junk datagrams handed over before waiting for their verdicts and then for quiet live traffic: a few ms of one
     * worker, so that a real knock that arrives meets at most that much rehearsal work.
     */
    static final int JUNK_SLICE = 10;
    /** How long a background rehearsal may wait for one verdict or burst: it yields to everything else. */
    private static final Duration BACKGROUND_DEADLINE = Duration.ofSeconds(60);
    /** Verdicts of the background rehearsal's junk: all of them decryption failures. */
    private static final DropReason JUNK_DROP = DropReason.DECRYPTION_FAILED;

    /**
     * Rehearses {@code rounds} knocks per server key and client key type (P-256, Ed25519).
     *
     * @param ledger the server's started ledger: its backend checks the rehearsal's batches
     */
    static Result run(ServerConfig config, List<ServerPrivateKey> keys, GrantLedger ledger, int rounds, Clock clock) {
        return run(config, keys, ledger, Plan.atStart(rounds), clock, () -> false, LiveTrafficYield.to(null));
    }

    /**
     * Starts a rehearsal {@link Plan#inBackground in the background} on a daemon thread that yields to the live
     * server's traffic ({@link LiveTrafficYield}); {@link Background#close} stops it (as the server stops) and waits
     * briefly for it.
     *
     * @param live the server's dispatcher, whose traffic the rehearsal waits out; null: nothing to yield to
     */
    static Background inBackground(ServerConfig config, List<ServerPrivateKey> keys, GrantLedger ledger, Plan plan,
            Clock clock, KnockDispatcher live) {
        return new Background(config, keys, ledger, plan, clock, LiveTrafficYield.to(live));
    }

    /** A rehearsal running on its own thread. */
    static final class Background implements AutoCloseable {
        private final Thread thread;
        private final CountDownLatch finished = new CountDownLatch(1);
        private final LiveTrafficYield yielding;
        private volatile boolean stopped;
        private volatile Result result;

        private Background(ServerConfig config, List<ServerPrivateKey> keys, GrantLedger ledger, Plan plan, Clock clock,
                LiveTrafficYield yielding) {
            this.yielding = yielding;
            thread = new Thread(() -> {
                try {
                    result = run(config, keys, ledger, plan, clock, () -> stopped, yielding);
                } finally {
                    finished.countDown();
                }
            }, "knock-rehearsal");
            thread.setDaemon(true);
            thread.start();
        }

        /** How it yields to live traffic: slices let through so far, pauses, time waited. */
        LiveTrafficYield yielding() {
            return yielding;
        }

        /** The result once it has finished, within {@code timeout}; null if it has not. */
        Result await(Duration timeout) throws InterruptedException {
            return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS) ? result : null;
        }

        @Override
        public void close() {
            stopped = true;
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Rehearses what {@code plan} says; {@code stop} ends it early (checked before each datagram). Each slice of work
     * (one knock, or {@link #JUNK_SLICE} junk datagrams) first waits for {@code yielding}.
     */
    static Result run(ServerConfig config, List<ServerPrivateKey> keys, GrantLedger ledger, Plan plan, Clock clock,
            BooleanSupplier stop, LiveTrafficYield yielding) {
        long start = System.nanoTime();
        String priority = "";
        if (plan.lowPriority()) {
            priority = LowPriority.currentThread(LowPriority.LOWEST) ? "at the lowest CPU priority (nice "
                    + LowPriority.LOWEST + ")" : "at normal CPU priority (it could not be lowered here)";
        }
        Duration deadline = plan.lowPriority() ? BACKGROUND_DEADLINE : KNOCK_DEADLINE;
        Verdicts verdicts = new Verdicts();
        int sent = 0;
        int junkSent = 0;
        Path journalDir = null;
        try {
            Instant now = clock.instant();
            KeyPair caKeys = generate("EC");
            X509Certificate ca = caCertificate(caKeys, now);
            PortGrant port = PortGrant.single(config.protect().get(0).protocol(), config.protect().get(0).firstPort());
            List<ClientCredential> clients = new ArrayList<>();
            for (String type : List.of("EC", "Ed25519")) {
                KeyPair k = generate(type);
                clients.add(new ClientCredential(KnockSigners.forPrivateKey(k.getPrivate()),
                        List.of(clientCertificate(k, ca, caKeys.getPrivate(), port, now))));
            }
            CrlStore crls = CrlStore.silent(List.of(ca), clock, config.crl().staleGrace());
            CrlUpdate crl = crls.offer(emptyCrl(ca, caKeys.getPrivate(), now),
                    "the start-up rehearsal (a throwaway CA that this server never trusts)");
            if (!(crl instanceof CrlUpdate.Accepted)) {
                throw new GeneralSecurityException("the rehearsal's own CRL was refused: " + crl);
            }
            AtomicLong rehearsalNanos = new AtomicLong(System.nanoTime());
            LongSupplier fastClock = () -> rehearsalNanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
            journalDir = plan.journal() ? journalDirectory(config) : null;
            KnockCounters counters = new KnockCounters();
            KnockEventListener events = KnockEventListener.composite(List.of(counters,
                    new AuditLog(Writer.nullWriter(), clock, System::nanoTime, 10), verdicts));
            // Each source opens one element, held by both clients: within both of the ledger's limits.
            int sources = Math.max(1, Math.min(MAX_SOURCES, Math.min(ledger.settings().maxElementsPerCertificate(),
                    ledger.settings().maxElements())));
            int seconds = Math.min(60, config.knock().maxOpenSeconds());
            try (ReplayGuard replay = journalDir != null
                    ? ReplayGuard.openSilent(journalDir.resolve("rehearsal.journal"), config.knock().timestampWindow(),
                            ReplayGuard.DEFAULT_CAPACITY, clock)
                    : ReplayGuard.inMemory(config.knock().timestampWindow(), ReplayGuard.DEFAULT_CAPACITY, clock);
                    GrantLedger firewall = ledger.rehearsal(events, plan.backendChecks())) {
                // A cache of one, and the two clients in turn: every knock builds its certification path.
                ChainValidator chains = new ChainValidator(new TrustStore(List.of(ca), List.of()), crls::generation, 1);
                var parts = new PipelineFactory.Parts(config, KnockOpener.of(keys), chains, crls, replay, firewall, clock,
                        fastClock);
                Replier replier = config.knock().replies()
                        ? new KnockReplies(new ReplySealer(RANDOM), (to, datagram) -> { }, new TokenBucket(1, 1, fastClock))
                        : Replier.NONE;
                KnockPipeline pipeline = new KnockPipeline(PipelineFactory.live(parts), events, clock, replier);
                // The configured knock port, or any when it is 0 (an ephemeral port, chosen when capture starts)
                int knockPort = config.capture().port() > 0 ? config.capture().port() : 62201;
                FrameParser parser = new FrameParser(LinkType.ETHERNET, knockPort);
                KnockDispatcher dispatcher = new KnockDispatcher(pipeline, counters, config.limits().queueCapacity(), 1,
                        "knock-rehearsal-", plan.lowPriority() ? () -> LowPriority.currentThread(LowPriority.LOWEST) : () -> { });
                try {
                    for (int round = 0; round < plan.rounds(); round++) {
                        for (ServerPrivateKey key : keys) {
                            for (ClientCredential client : clients) {
                                yielding.await(stop);
                                InetAddress source = source(sent % sources);
                                KnockRequest request = declaring(KnockRequest.of(seconds, List.of(port)), source);
                                byte[] datagram = new KnockSealer(client, key.publicKey(), clock, RANDOM).seal(request)
                                        .datagram();
                                sent++;
                                if (!dispatcher.offer(captured(parser, datagram, source, 40_000 + sent % 20_000,
                                        knockPort, clock.instant()))) {
                                    verdicts.count(DropReason.QUEUE_FULL);
                                } else if (!verdicts.done.tryAcquire(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                                    throw new IllegalStateException("a rehearsal knock took longer than "
                                            + deadline.toSeconds() + " s");
                                }
                            }
                        }
                    }
                    int junkSources = Math.max(1, Math.min(JUNK_SOURCES, config.limits().queueCapacity() / 2));
                    int slice = Math.min(JUNK_SLICE, junkSources);
                    for (ServerPrivateKey key : keys) {
                        byte[] junk = new KnockSealer(clients.get(0), key.publicKey(), clock, RANDOM)
                                .seal(declaring(KnockRequest.of(seconds, List.of(port)), source(0))).datagram();
                        junk[junk.length - 1] ^= 1;
                        for (int n = 0; n < plan.junk(); ) {
                            yielding.await(stop);
                            int offered = 0;
                            for (int i = 0; i < slice && n < plan.junk(); i++, n++) {
                                if (stop.getAsBoolean()) {
                                    throw new InterruptedException("stopped");
                                }
                                // Sources beyond the knocks' own, in turn: each at most once in junkSources.
                                InetAddress source = source(MAX_SOURCES + n % junkSources);
                                junkSent++;
                                if (dispatcher.offer(captured(parser, junk, source, 40_000 + n % 20_000, knockPort,
                                        clock.instant()))) {
                                    offered++;
                                } else {
                                    verdicts.count(DropReason.QUEUE_FULL);
                                }
                            }
                            if (!verdicts.done.tryAcquire(offered, deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                                throw new IllegalStateException("rehearsal junk took longer than " + deadline.toSeconds()
                                        + " s");
                            }
                        }
                    }
                } finally {
                    dispatcher.close();
                }
            }
        } catch (GeneralSecurityException | OperatorCreationException | FirewallException | IOException
                | InterruptedException | RuntimeException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (plan.lowPriority()) {
                // Stopped with the server, or starved by real work: both are normal, and cost only compile time later.
                LOG.info("background rehearsal stopped after {} knock(s) and {} junk datagram(s), {} ms of waiting out "
                        + "live knocks: {}", sent, junkSent, yielding.waited().toMillis(), e.toString());
            } else {
                LOG.warn("start-up rehearsal stopped after {} knock(s) (knocks are unaffected; the first may be slower): {}",
                        sent, e.toString());
            }
            return new Result(sent, verdicts.accepted.get(), verdicts.dropped(), Duration.ofNanos(System.nanoTime() - start));
        } finally {
            deleteQuietly(journalDir);
        }
        Result r = new Result(sent, verdicts.accepted.get(), verdicts.dropped(), Duration.ofNanos(System.nanoTime() - start));
        Map<DropReason, Integer> expectedDrops = junkSent == 0 ? Map.of() : Map.of(JUNK_DROP, junkSent);
        if (plan.lowPriority() && r.accepted() == r.knocks() && r.dropped().equals(expectedDrops)) {
            LOG.info("background rehearsal: {} knocks and {} well-formed junk datagrams through the pipeline on throwaway "
                    + "material in {} ms {}, {} ms of it waiting out live knocks ({} pause(s)), so that what a flood "
                    + "runs is compiled before one comes; nothing was granted", r.knocks(), junkSent, r.took().toMillis(),
                    priority, yielding.waited().toMillis(), yielding.pauses());
        } else if (plan.lowPriority()) {
            LOG.warn("background rehearsal: {} of {} knocks on throwaway material were accepted and {} junk datagrams "
                    + "sent, the drops were {} (expected {}); knocks are unaffected", r.accepted(), r.knocks(), junkSent,
                    r.dropped(), expectedDrops);
        } else if (r.knocks() > 0 && r.accepted() == r.knocks()) {
            LOG.info("start-up rehearsal: {} knocks through the pipeline and a rehearsal ledger on throwaway material in "
                    + "{} ms ({}); nothing was granted", r.knocks(), r.took().toMillis(), ledger.rehearsalCheck());
        } else if (r.knocks() > 0) {
            LOG.warn("start-up rehearsal: {} of {} knocks on throwaway material were accepted, the others dropped {}; "
                    + "knocks are unaffected, but the first may be slower", r.accepted(), r.knocks(), r.dropped());
        }
        return r;
    }

    /** Counts the rehearsal's verdicts and signals each. */
    private static final class Verdicts implements KnockEventListener {
        final Semaphore done = new Semaphore(0);
        final AtomicInteger accepted = new AtomicInteger();
        private final Map<DropReason, AtomicInteger> drops = new ConcurrentHashMap<>();

        @Override
        public void accepted(Verdict.Accepted verdict, KnockView context) {
            accepted.incrementAndGet();
            done.release();
        }

        @Override
        public void dropped(Verdict.Dropped verdict, KnockView context) {
            count(verdict.reason());
            done.release();
        }

        void count(DropReason reason) {
            drops.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
        }

        Map<DropReason, Integer> dropped() {
            Map<DropReason, Integer> out = new TreeMap<>(Comparator.comparing(Enum::name));
            drops.forEach((r, n) -> out.put(r, n.get()));
            return out;
        }
    }

    /**
     * The datagram as pcap capture hands it over: wrapped in an Ethernet frame with an IPv4 or IPv6 and a UDP header,
     * and parsed back by the capture's own parser.
     */
    static ReceivedDatagram captured(FrameParser parser, byte[] payload, InetAddress source, int sourcePort, int knockPort,
            Instant now) throws UnknownHostException {
        boolean v4 = source instanceof Inet4Address;
        int ipHeader = v4 ? 20 : 40;
        ByteBuffer f = ByteBuffer.allocate(14 + ipHeader + 8 + payload.length);
        f.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) (v4 ? 0x0800 : 0x86DD));
        int udpLength = 8 + payload.length;
        if (v4) {
            int ip = f.position();
            f.put((byte) 0x45).put((byte) 0).putShort((short) (20 + udpLength)).putShort((short) 0).putShort((short) 0)
                    .put((byte) 64).put((byte) 17).putShort((short) 0).put(source.getAddress())
                    .put(new byte[] {(byte) 192, 0, 2, (byte) 254});
            int sum = 0;
            for (int i = ip; i < ip + 20; i += 2) {
                sum += f.getShort(i) & 0xFFFF;
            }
            while ((sum >>> 16) != 0) {
                sum = (sum & 0xFFFF) + (sum >>> 16);
            }
            f.putShort(ip + 10, (short) ~sum);
        } else {
            byte[] destination = InetAddress.getByName("2001:db8::fffe").getAddress();
            f.putInt(0x60000000).putShort((short) udpLength).put((byte) 17).put((byte) 64).put(source.getAddress())
                    .put(destination);
        }
        f.putShort((short) sourcePort).putShort((short) knockPort).putShort((short) udpLength).putShort((short) 0).put(payload);
        byte[] frame = f.array();
        ParseResult r = parser.parse(frame);
        if (!(r instanceof ParseResult.Datagram d)) {
            throw new IllegalStateException("the capture's parser skipped a rehearsal frame: " + r);
        }
        return new ReceivedDatagram(frame, d.payloadOffset(), d.payloadLength(), new InetSocketAddress(d.src(), d.srcPort()),
                now);
    }

    /** A temporary directory beside the replay journal, so the rehearsal writes where the journal is; or null. */
    private static Path journalDirectory(ServerConfig config) throws IOException {
        Path journal = config.knock().replayJournal();
        if (journal == null) {
            return null;
        }
        Path parent = journal.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, ".rehearsal-");
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("start-up rehearsal: cannot delete its temporary directory {}: {}", dir, e.toString());
        }
    }

    /**
     * The n-th source address: every fourth IPv6 in 2001:db8::/32, the others IPv4 from 192.0.2.0/24,
     * 198.51.100.0/24 and 203.0.113.0/24; distinct for distinct n below 762.
     */
    private static InetAddress source(int n) throws UnknownHostException {
        if (n % 4 == 3) {
            byte[] a = new byte[16];
            a[0] = 0x20;
            a[1] = 0x01;
            a[2] = 0x0d;
            a[3] = (byte) 0xb8;
            a[14] = (byte) (n >> 8);
            a[15] = (byte) (1 + n % 254);
            return InetAddress.getByAddress(a);
        }
        int[][] nets = {{192, 0, 2}, {198, 51, 100}, {203, 0, 113}};
        int[] net = nets[(n / 254) % nets.length];
        return InetAddress.getByAddress(new byte[] {(byte) net[0], (byte) net[1], (byte) net[2], (byte) (1 + n % 254)});
    }

    private static KnockRequest declaring(KnockRequest request, InetAddress address) {
        return address instanceof Inet4Address v4 ? request.withDeclaredIpv4(v4) : request.withDeclaredIpv6((Inet6Address) address);
    }

    private static KeyPair generate(String type) throws GeneralSecurityException {
        if (type.equals("EC")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        }
        return KeyPairGenerator.getInstance(type).generateKeyPair();
    }

    private static X509Certificate caCertificate(KeyPair keys, Instant now)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        X509v3CertificateBuilder b = builder(CA_NAME, CA_NAME, keys, now);
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
        return sign(b, keys.getPrivate());
    }

    private static X509Certificate clientCertificate(KeyPair keys, X509Certificate ca, PrivateKey caKey, PortGrant grant,
            Instant now) throws GeneralSecurityException, OperatorCreationException, IOException {
        X509v3CertificateBuilder b = builder("CN=certknock start-up rehearsal client (throwaway)", CA_NAME, keys, now);
        b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new DERSequence(KeyPurposeId.getInstance(CertknockOids.KP_CLIENT)));
        b.addExtension(GrantsExtension.toExtension(CertknockGrants.of(grant)));
        return sign(b, caKey);
    }

    private static X509v3CertificateBuilder builder(String subject, String issuer, KeyPair subjectKeys, Instant now) {
        return new JcaX509v3CertificateBuilder(new X500Name(issuer), new BigInteger(64, RANDOM).add(BigInteger.ONE),
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(600)), new X500Name(subject),
                subjectKeys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey)
            throws GeneralSecurityException, OperatorCreationException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm(issuerKey))
                .build(issuerKey)));
    }

    private static byte[] emptyCrl(X509Certificate ca, PrivateKey caKey, Instant now)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        X509v2CRLBuilder b = new X509v2CRLBuilder(new X500Name(CA_NAME), Date.from(now.minusSeconds(60)));
        b.setNextUpdate(Date.from(now.plusSeconds(600)));
        b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.ONE));
        b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca));
        return b.build(new JcaContentSignerBuilder(algorithm(caKey)).build(caKey)).getEncoded();
    }

    private static String algorithm(PrivateKey key) {
        return key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "Ed25519";
    }
}
