package dev.certknock.server.app;

import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.server.capture.PacketSource;
import dev.certknock.server.capture.UdpSocketCapture;
import dev.certknock.server.capture.pcap.PcapCapture;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CaKey;
import dev.certknock.server.crl.CrlListener;
import dev.certknock.server.crl.RejectionReason;
import dev.certknock.server.dispatch.KnockDispatcher;
import dev.certknock.server.event.AuditLog;
import dev.certknock.server.event.DropLog;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.diagnostics.RefusedKeeper;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.ConntrackCutter;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.LogWriter;
import dev.certknock.server.firewall.command.CommandWriter;
import dev.certknock.server.firewall.command.CommandSettings;
import dev.certknock.server.firewall.command.CommandTemplate;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.firewall.iptables.IptablesWriter;
import dev.certknock.server.firewall.iptables.IptablesSettings;
import dev.certknock.server.firewall.nftables.NftSettings;
import dev.certknock.server.firewall.nftables.NftWriter;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PublicKeyBudget;
import dev.certknock.server.metrics.MetricsEndpoint;
import dev.certknock.server.metrics.ServerMetrics;
import dev.certknock.server.status.StatusJson;
import dev.certknock.server.status.StatusReport;
import dev.certknock.server.status.StatusSocket;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import dev.certknock.server.config.ConfigException;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.reload.ReloadListener;
import dev.certknock.server.reload.ReloadResult;
import dev.certknock.server.reload.RestartOnly;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.knock.Replier;
import dev.certknock.server.reply.KnockReplies;
import dev.certknock.server.reply.ReplySocket;
import dev.certknock.server.ratelimit.TokenBucket;
import dev.certknock.protocol.knock.ReplySealer;
import java.security.SecureRandom;
import dev.certknock.server.replay.RedisReplayStore;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.SharedReplay;
import dev.certknock.server.trust.ChainValidator;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running server: capture, bounded dispatch to the pipeline, CRLs on schedule, replay state,
 * firewall, events. A new CRL closes the open grants of certificates it newly revokes.
 */
public final class KnockServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KnockServer.class);
    /** Rehearsal knocks per server key and client key type before capture starts (see StartupRehearsal). */
    private static final int REHEARSAL_ROUNDS = 500;
    /**
     * After start, at the lowest CPU priority and only while no live knock is being handled (it waits out the
     * dispatcher's traffic): knocks per server key and client key type, and well-formed junk datagrams per server key,
     * so that the JIT has compiled what a flood runs before one comes (docs/DESIGN.md D16).
     */
    private static final int BACKGROUND_ROUNDS = 250;
    private static final int BACKGROUND_JUNK = 5000;
    /** Validated certification paths kept (by leaf fingerprint) until the trust anchors or a CRL change. */
    private static final int CHAIN_CACHE = 100_000;

    /** Most (address, port range) elements open at once; beyond it grants are refused (FIREWALL_FAILED). */

    private final Clock clock;
    private final KnockCounters counters = new KnockCounters();
    private final ReplayGuard replay;
    /** The gateway group's replay store (knock.replayStore), or SharedReplay.LOCAL. */
    private final SharedReplay sharedReplay;
    private final GrantLedger firewall;
    private final AuditLog audit;
    private final KnockEventListener events;
    /** diagnostics.keepRefused, or null when off. */
    private final RefusedKeeper keepRefused;
    private final KnockDispatcher dispatcher;
    private final PacketSource capture;
    private final ScheduledExecutorService housekeeping;
    private final StatsReport stats;
    private final ConntrackCutter cutter;
    private final KnockReplies replies;
    private volatile KnockReplies.Transport replyTransport;
    private ReplySocket replySocket;
    /** Null when the {@code metrics} section is absent. */
    private final ServerMetrics metrics;
    private MetricsEndpoint metricsEndpoint;
    private StatusSocket statusSocket;
    private StartupRehearsal.Background backgroundRehearsal;
    private final Instant startedAt;
    /** {@link System#nanoTime()} when a housekeeping run last finished (read by {@link #vitals}). */
    private volatile long housekeepingTurn = System.nanoTime();
    /** The rate-limit stages every pipeline of this server shares (see PipelineFactory.Throttles). */
    private final PipelineFactory.Throttles throttles;
    /** What a reload replaces, read once per use and swapped whole (docs/DESIGN.md D30). */
    private volatile Live live;
    /** Held by a reload from start to end, and by close: one at a time, and none after close. */
    private final Object reloadLock = new Object();
    private final List<ReloadListener> reloadListeners = new CopyOnWriteArrayList<>();
    private final AtomicLong reloadsApplied = new AtomicLong();
    private final AtomicLong reloadsRefused = new AtomicLong();
    private volatile ReloadResult lastReload;
    /** Guarded by reloadLock. */
    private boolean closed;

    /**
     * The parts that depend on the configuration's reloadable settings, keys and trust: a reload builds a new one
     * off to the side and swaps it in when every part of it was built.
     */
    private record Live(ServerMaterial material, CrlService crls, List<CaKey> trustedCas, ChainValidator chains) {
    }

    private static List<CaKey> caKeys(ServerMaterial material) {
        Set<CaKey> cas = new LinkedHashSet<>();
        material.trust().caCertificates().forEach(c -> cas.add(CaKey.of(c)));
        return List.copyOf(cas);
    }

    private KnockServer(ServerMaterial material, Clock clock) throws IOException {
        this.clock = clock;
        this.startedAt = clock.instant();
        ServerConfig config = material.config();
        List<CaKey> trustedCas = caKeys(material);
        List<KnockEventListener> listeners = new ArrayList<>();
        listeners.add(counters);
        this.metrics = config.metrics() != null ? new ServerMetrics(clock, version()) : null;
        if (metrics != null) {
            listeners.add(metrics);
        }
        listeners.add(new DropLog(System::nanoTime, 10));
        this.audit = config.logging().audit() != null ? AuditLog.open(config.logging().audit(), clock, System::nanoTime) : null;
        if (audit != null) {
            listeners.add(audit);
        }
        ServerConfig.KeepRefused keep = config.diagnostics().keepRefused();
        this.keepRefused = keep == null ? null : RefusedKeeper.start(new RefusedKeeper.Settings(
                keep.directoryOr(config.knock().replayJournal()), keep.count(), keep.maxBytes(), keep.perSecond()), System::nanoTime);
        if (keepRefused != null) {
            listeners.add(keepRefused);
        }
        this.events = KnockEventListener.composite(listeners);
        this.firewall = firewall(config, clock, events);
        CrlService crls = CrlService.create(material, clock);
        crls.store().addListener(new RevocationCloser());
        this.replay = ReplayGuard.open(config.knock().replayJournal(), config.knock().timestampWindow(),
                config.knock().replayCapacity(), clock);
        this.sharedReplay = sharedReplay(config);
        ChainValidator chains = new ChainValidator(material.trust(), crls.store()::generation, CHAIN_CACHE);
        this.live = new Live(material, crls, trustedCas, chains);
        this.throttles = PipelineFactory.throttles(config.limits(), System::nanoTime);
        var parts = new PipelineFactory.Parts(config, KnockOpener.of(material.keys()), chains, crls.store(), replay,
                firewall, clock, System::nanoTime, sharedReplay);
        this.replies = config.knock().replies() ? new KnockReplies(new ReplySealer(new SecureRandom()), this::sendReply,
                new TokenBucket(config.knock().repliesPerSecond(), 2.0 * config.knock().repliesPerSecond(), System::nanoTime))
                : null;
        KnockPipeline pipeline = new KnockPipeline(PipelineFactory.live(parts, throttles), events, clock,
                replies != null ? replies : Replier.NONE);
        this.dispatcher = new KnockDispatcher(pipeline, counters, config.limits().queueCapacity(), config.limits().workers());
        this.capture = switch (config.capture().mode()) {
            case UDP_SOCKET -> new UdpSocketCapture(new InetSocketAddress(InetAddress.getByName(config.capture().address()),
                    config.capture().port()), clock);
            case PCAP -> new PcapCapture(PcapCapture.Settings.of(config.capture().iface(), config.capture().port()), clock);
        };
        if (metrics != null) {
            PublicKeyBudget budget = pipeline.stages().stream().filter(PublicKeyBudget.class::isInstance)
                    .map(PublicKeyBudget.class::cast).findFirst().orElse(null);
            metrics.bind(new ServerMetrics.Sources(counters, firewall, crls.store(), trustedCas, capture,
                    dispatcher::queued, replay::size, budget == null ? () -> 0.0 : budget::usedShare));
            if (keepRefused != null) {
                metrics.bindRefusedKeeper(keepRefused);
            }
        }
        this.stats = new StatsReport(counters, capture, firewall, clock,
                replies != null ? replies::figures : java.util.Map::of);
        this.cutter = config.firewall().cutOnRevoke()
                ? new ConntrackCutter(new ProcessRunner(List.of(), Duration.ofSeconds(10))) : null;
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "knock-housekeeping");
            t.setDaemon(true);
            return t;
        });
    }

    private static GrantLedger firewall(ServerConfig config, Clock clock, KnockEventListener events) throws IOException {
        ServerConfig.Firewall fw = config.firewall();
        GrantLedger.Settings limits = new GrantLedger.Settings(fw.maxElements(), fw.maxElementsPerCertificate(),
                fw.onStop() == ServerConfig.OnStop.FLUSH);
        return switch (fw.backend()) {
            case LOG -> start("log", () -> new GrantLedger(new LogWriter(), limits, clock, events).start());
            case NFTABLES -> {
                try {
                    yield new GrantLedger(new NftWriter(new NftSettings(fw.table(), config.capture().port(),
                            config.protect(), fw.reject(), List.of())),
                            limits, clock, events).start();
                } catch (FirewallException e) {
                    throw new IOException("cannot set up the nftables table inet " + fw.table() + ": " + e.getMessage()
                            + " (the server needs CAP_NET_ADMIN and the nft command)", e);
                }
            }
            case IPTABLES -> start("iptables", () -> new GrantLedger(new IptablesWriter(
                    IptablesSettings.of(config.capture().port(), config.protect()).withReject(fw.reject()), clock), limits, clock, events)
                    .start());
            case COMMAND -> start("command", () -> new GrantLedger(new CommandWriter(CommandSettings.of(
                    CommandTemplate.parse("firewall.command.open", fw.command().open()),
                    CommandTemplate.parse("firewall.command.close", fw.command().close()), fw.command().stateFile())
                    .withCommandTimeout(fw.command().timeout()), clock), limits, clock, events).start());
        };
    }

    private interface FirewallStart {
        GrantLedger start() throws FirewallException;
    }

    private static GrantLedger start(String backend, FirewallStart start) throws IOException {
        try {
            return start.start();
        } catch (FirewallException e) {
            throw new IOException("cannot start the " + backend + " firewall backend: " + e.getMessage(), e);
        }
    }

    /**
     * Loads the CRL cache, starts fetching the CRL sources in the background (start-up never waits on the
     * network), opens the replay journal and starts capturing.
     */
    public static KnockServer start(ServerMaterial material, Clock clock) throws IOException {
        // First, before anything is touched: a second server on the same state refuses to start here.
        AtomicReference<KnockServer> started = new AtomicReference<>();
        StatusSocket status = StatusSocket.open(material.config().statusSocket(), () -> {
            KnockServer running = started.get();
            return running == null ? null : StatusJson.write(running.status());
        });
        KnockServer s;
        try {
            s = new KnockServer(material, clock);
        } catch (IOException | RuntimeException e) {
            status.close();
            throw e;
        }
        s.statusSocket = status;
        s.live.crls().start();
        s.housekeeping.scheduleAtFixedRate(s::housekeeping, 1, 1, TimeUnit.SECONDS);
        long every = material.config().logging().statsInterval().toMillis();
        s.housekeeping.scheduleAtFixedRate(s::logStats, every, every, TimeUnit.MILLISECONDS);
        StartupRehearsal.run(material.config(), material.keys(), s.firewall, REHEARSAL_ROUNDS, clock);
        try {
            if (s.replies != null) {
                s.replyTransport = s.capture instanceof UdpSocketCapture udp ? udp
                        : (s.replySocket = ReplySocket.bind(material.config().capture().port()));
            }
            ServerConfig.Metrics m = material.config().metrics();
            if (m != null) {
                s.metricsEndpoint = MetricsEndpoint.start(new InetSocketAddress(InetAddress.getByName(m.address()), m.port()),
                        s.metrics::scrape);
                LOG.info("metrics: {}", s.metricsEndpoint.url());
                if (!m.loopback()) {
                    LOG.warn("metrics endpoint {} is reachable beyond this host (metrics.allowNonLoopback): it has no "
                            + "authentication; let only the scraper reach its port", s.metricsEndpoint.url());
                }
            }
            s.capture.start(s.dispatcher::offer);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        started.set(s);
        s.backgroundRehearsal = StartupRehearsal.inBackground(material.config(), material.keys(), s.firewall,
                StartupRehearsal.Plan.inBackground(BACKGROUND_ROUNDS, BACKGROUND_JUNK), clock, s.dispatcher);
        LOG.info("status socket: {}", status.path());
        LOG.info("knock-server {} started: {} knock key(s), protecting {}", material.config().server().name(),
                material.keys().size(), material.config().protect());
        if (material.config().firewall().backend() == ServerConfig.FirewallBackend.LOG) {
            LOG.warn("firewall backend 'log': grants are recorded, not enforced; set firewall.backend (nftables, "
                    + "iptables or command) to protect {}", material.config().protect());
        }
        return s;
    }

    /** The gateway group's replay store: connects in the background, never stalls the start (docs/DESIGN.md D36). */
    private static SharedReplay sharedReplay(ServerConfig config) {
        ServerConfig.Knock k = config.knock();
        if (!k.sharedReplayStore()) {
            return SharedReplay.LOCAL;
        }
        return RedisReplayStore.start(new RedisReplayStore.Settings(k.replayStore(), k.replayStoreTimeout(),
                k.replayStoreOutage() == ServerConfig.ReplayStoreOutage.LOCAL_ONLY, config.server().name()));
    }

    private void sendReply(InetSocketAddress to, byte[] datagram) throws IOException {
        KnockReplies.Transport t = replyTransport;
        if (t == null) {
            throw new IOException("not started");
        }
        t.send(to, datagram);
    }

    private void housekeeping() {
        try {
            replay.sweep();
            firewall.active(clock.instant());
        } catch (RuntimeException e) {
            LOG.warn("housekeeping failed: {}", LogText.of(e.toString()));
        } finally {
            housekeepingTurn = System.nanoTime();
        }
    }

    private void logStats() {
        try {
            String line = stats.lineIfChanged();
            if (line != null) {
                LOG.info("stats: {}", line);
            }
        } catch (RuntimeException e) {
            LOG.warn("statistics failed: {}", LogText.of(e.toString()));
        }
    }

    /** The version from the jar manifest, or "development build". */
    static String version() {
        String v = KnockServer.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }

    /** What {@code knock-server status} shows: open grants, CRL freshness per trusted CA key, counters, uptime. */
    public StatusReport status() {
        Live l = live;
        Instant now = clock.instant();
        Map<String, Long> dropped = new java.util.LinkedHashMap<>();
        counters.drops().forEach((reason, n) -> dropped.put(reason.name(), n));
        StatusReport.Counters figures = new StatusReport.Counters(counters.received(), counters.accepted(), dropped,
                counters.staleCrlIssuers());
        List<StatusReport.Grant> grants = firewall.active(now).stream()
                .sorted(java.util.Comparator.comparing(GrantDecision::expiresAt))
                .map(d -> new StatusReport.Grant(dev.certknock.protocol.grant.AddressText.format(d.address()),
                        d.grants().stream().map(Object::toString).toList(), d.subject().getName(),
                        d.serial().toString(16), d.issuer().getName(), d.openedAt(), d.expiresAt()))
                .toList();
        List<StatusReport.Crl> crlList = new ArrayList<>();
        for (CaKey ca : l.trustedCas()) {
            Optional<dev.certknock.server.crl.CrlInfo> info = l.crls().store().info(ca);
            crlList.add(info.map(i -> new StatusReport.Crl(ca.name().getName(), ca.keyId(), i.crlNumber().toString(),
                    i.thisUpdate(), i.nextUpdate(), i.staleAfter(), i.entries(), !i.isStaleAt(now)))
                    .orElse(new StatusReport.Crl(ca.name().getName(), ca.keyId(), null, null, null, null, null, false)));
        }
        ReloadResult last = lastReload;
        StatusReport.Reloads reloads = new StatusReport.Reloads(reloadsApplied.get(), reloadsRefused.get(),
                last == null ? null : last.at(), last == null ? null : describe(last));
        return new StatusReport(l.material().config().server().name(), version(), startedAt, now,
                Math.max(0, Duration.between(startedAt, now).toSeconds()), figures, firewall.elementCount(), grants,
                crlList, reloads, keepRefused == null ? null : new StatusReport.KeptRefused(keepRefused.written(),
                        keepRefused.rateLimited(), keepRefused.queueFull(), keepRefused.failed()));
    }

    /** The gateway group's replay store ({@code knock.replayStore}), or {@link SharedReplay#LOCAL}. */
    public SharedReplay replayStore() {
        return sharedReplay;
    }

    /** The metrics endpoint's address, when {@code metrics} is configured. */
    public Optional<InetSocketAddress> metricsAddress() {
        return metricsEndpoint == null ? Optional.empty() : Optional.of(metricsEndpoint.address());
    }

    /** The status socket's path. */
    public Path statusSocketPath() {
        return statusSocket.path();
    }

    /** What the systemd watchdog's liveness check reads: the threads' last turns, the workers, the queue. */
    public dev.certknock.server.systemd.Liveness.Vitals vitals() {
        long now = System.nanoTime();
        return new dev.certknock.server.systemd.Liveness.Vitals(now, capture.lastTurnNanos(), housekeepingTurn,
                dispatcher.longestBusyNanos(now), dispatcher.deadWorkers(), dispatcher.queued(), dispatcher.taken());
    }

    /** The figures that the periodic statistics line logs. */
    public String statsLine() {
        return stats.line();
    }

    /**
     * Closes the open grants of certificates a newly accepted CRL revokes: leaves, and when the CRL is a root's or
     * an intermediate's, every grant held under a revoked CA certificate.
     */
    private final class RevocationCloser implements CrlListener {
        @Override
        public void crlAccepted(CaKey issuer, BigInteger crlNumber, Set<BigInteger> newlyRevoked) {
            events.crlAccepted(issuer.name(), crlNumber, newlyRevoked.size());
            if (newlyRevoked.isEmpty()) {
                return;
            }
            Set<CertRef> revoked = new HashSet<>();
            newlyRevoked.forEach(serial -> revoked.add(new CertRef(issuer.keyId(), serial)));
            Set<String> tags = new HashSet<>();
            revoked.forEach(r -> tags.add(r.tag()));
            // One pass over the ledger and one batch for the whole CRL, however many serials it newly revokes.
            List<GrantDecision> open = cutter == null ? List.of() : firewall.active(clock.instant()).stream()
                    .filter(d -> d.holder().heldUnderAny(tags)).toList();
            try {
                int closed = firewall.revoke(revoked);
                if (closed > 0) {
                    LOG.info("closed {} open grant(s) of {} newly revoked certificate(s)", closed, newlyRevoked.size());
                }
            } catch (FirewallException e) {
                LOG.warn("could not close the grants of {} newly revoked certificate(s): {}", newlyRevoked.size(),
                        LogText.of(e.getMessage()));
            }
            for (GrantDecision d : open) {
                try {
                    int cut = cutter.cut(d);
                    LOG.info("cut {} connection(s) of revoked certificate serial {} from {}", cut,
                            d.serial().toString(16), d.address().getHostAddress());
                } catch (FirewallException e) {
                    LOG.warn("could not cut the connections of revoked serial {} from {}: {}", d.serial().toString(16),
                            d.address().getHostAddress(), LogText.of(e.getMessage()));
                }
            }
        }

        @Override
        public void crlRejected(String origin, RejectionReason reason, String message) {
            events.crlFailed(origin, reason + ": " + message);
        }

        @Override
        public void freshnessChanged(X500Principal issuer, boolean fresh) {
            events.crlFreshness(issuer, fresh);
        }
    }

    /** The UDP socket's address (with {@code capture.mode udp-socket}). */
    public InetSocketAddress knockAddress() {
        if (capture instanceof UdpSocketCapture udp) {
            return udp.localAddress();
        }
        throw new IllegalStateException("knockAddress() is for udp-socket capture");
    }

    public KnockCounters counters() {
        return counters;
    }

    public Firewall firewall() {
        return firewall;
    }

    /** The CRLs in force (a reload that changes trust or the crl section replaces them). */
    public CrlService crls() {
        return live.crls();
    }

    /** The configuration, keys and trust in force. */
    public ServerMaterial material() {
        return live.material();
    }

    /** Told around every reload (e.g. a service manager notifier); see {@link ReloadListener}. */
    public void addReloadListener(ReloadListener listener) {
        reloadListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Reopens the audit log, then re-reads the configuration file this server runs from and everything it points at
     * (SIGHUP; docs/DESIGN.md D30). The new configuration, knock keys, trust anchors and CRL settings are loaded and
     * checked off to the side, and swapped in as one only when all of it passed; otherwise nothing changes and the
     * refusal is logged at ERROR with its file:line. Open grants, the replay state, the firewall table, the capture,
     * the queue and the rate-limit standing carry on either way. One reload at a time; none after {@link #close}.
     */
    public ReloadResult reload() {
        synchronized (reloadLock) {
            for (ReloadListener l : reloadListeners) {
                try {
                    l.reloading();
                } catch (RuntimeException e) {
                    LOG.warn("reload listener {} failed: {}", l, LogText.of(e.toString()));
                }
            }
            ReloadResult result;
            if (closed) {
                result = new ReloadResult.Refused(clock.instant(), "the server is stopping");
            } else {
                if (audit != null) {
                    audit.reopen();
                }
                Path file = live.material().configFile();
                LOG.info("reload: reading {}", file);
                try {
                    result = apply(ServerMaterial.load(file));
                } catch (ConfigException e) {
                    result = new ReloadResult.Refused(clock.instant(), e.getMessage());
                } catch (ReloadRefusedException e) {
                    result = new ReloadResult.Refused(clock.instant(), e.getMessage());
                } catch (RuntimeException e) {
                    LOG.error("reload failed unexpectedly", e);
                    result = new ReloadResult.Refused(clock.instant(), "unexpected failure: " + LogText.of(e.toString()));
                }
            }
            if (result instanceof ReloadResult.Applied applied) {
                reloadsApplied.incrementAndGet();
                LOG.info("reload applied: {}", applied.changed().isEmpty() ? "nothing changed"
                        : "changed " + String.join(", ", applied.changed()));
            } else {
                reloadsRefused.incrementAndGet();
                LOG.error("reload refused, the running configuration stays in force: {}",
                        ((ReloadResult.Refused) result).reason());
            }
            if (metrics != null) {
                metrics.reloaded(result instanceof ReloadResult.Applied);
            }
            lastReload = result;
            for (ReloadListener l : reloadListeners) {
                try {
                    l.reloaded(result);
                } catch (RuntimeException e) {
                    LOG.warn("reload listener {} failed: {}", l, LogText.of(e.toString()));
                }
            }
            return result;
        }
    }

    private static String describe(ReloadResult r) {
        if (r instanceof ReloadResult.Applied a) {
            return "applied" + (a.changed().isEmpty() ? "" : ": " + String.join(", ", a.changed()));
        }
        return "refused: " + ((ReloadResult.Refused) r).reason();
    }

    /** A reload refused for a reason that is not the file's syntax (ConfigException covers that). */
    private static final class ReloadRefusedException extends Exception {
        private static final long serialVersionUID = 1L;

        ReloadRefusedException(String message) {
            super(message);
        }
    }

    /** Builds everything the new material needs off to the side, then swaps it in. Called under reloadLock. */
    private ReloadResult apply(ServerMaterial next) throws ReloadRefusedException {
        Live before = live;
        ServerConfig was = before.material().config();
        ServerConfig now = next.config();
        List<String> restartOnly = RestartOnly.changed(was, now);
        if (!restartOnly.isEmpty()) {
            // At the first changed key's line (or the file alone, when the key went back to its default by leaving)
            throw new ReloadRefusedException(ConfigLoader.at(next.configFile(), "/" + restartOnly.get(0).replace('.', '/'),
                    RestartOnly.message(restartOnly), null).getMessage());
        }
        KnockOpener opener;
        try {
            opener = KnockOpener.of(next.keys());
        } catch (IllegalArgumentException e) {
            throw new ReloadRefusedException(ConfigLoader.at(next.configFile(), "/server/identities", e.getMessage()
                    + ": list each knock key once", e).getMessage());
        }
        boolean trustChanged = !next.trust().equals(before.material().trust());
        boolean crlChanged = trustChanged || !now.crl().equals(was.crl());
        List<CaKey> cas = caKeys(next);
        CrlService crls = before.crls();
        ChainValidator chains = before.chains();
        KnockPipeline pipeline;
        try {
            if (crlChanged) {
                crls = CrlService.create(next, clock);
                crls.store().addListener(new RevocationCloser());
                crls.loadCache(); // local disk: the cached CRLs are in force from the swap on
                noRollback(before.crls(), crls, next);
                chains = new ChainValidator(next.trust(), crls.store()::generation, CHAIN_CACHE);
            }
            var parts = new PipelineFactory.Parts(now, opener, chains, crls.store(), replay, firewall, clock,
                    System::nanoTime, sharedReplay);
            pipeline = new KnockPipeline(PipelineFactory.live(parts, throttles), events, clock,
                    replies != null ? replies : Replier.NONE);
        } catch (RuntimeException | ReloadRefusedException e) {
            if (crls != before.crls()) {
                crls.close();
            }
            if (e instanceof ReloadRefusedException r) {
                throw r;
            }
            throw new ReloadRefusedException("cannot build the new CRL store or knock pipeline: " + LogText.of(e.toString()));
        }
        // Everything is built: the swap cannot fail from here on.
        dispatcher.replace(pipeline);
        live = new Live(next, crls, cas, chains);
        if (crlChanged) {
            if (metrics != null) {
                metrics.bindCrls(crls.store(), cas);
            }
            crls.start();
            before.crls().close();
            // after the old store is closed: it reports no more, and a removed CA no longer counts as stale
            Set<X500Principal> names = new HashSet<>();
            cas.forEach(ca -> names.add(ca.name()));
            counters.retainIssuers(names);
            CrlService inForce = crls;
            long without = cas.stream().filter(ca -> inForce.store().info(ca).isEmpty()).count();
            if (without > 0) {
                LOG.warn("reload: {} of {} trusted CA key(s) have no CRL cached yet: their certificates' knocks are "
                        + "refused until a CRL source delivers one", without, cas.size());
            }
        }
        logKeys(before.material(), next);
        return new ReloadResult.Applied(clock.instant(), changes(before.material(), next, trustChanged));
    }

    /**
     * A new CRL store must not hold an older CRL than the running one for a CA key both trust (a {@code crl.cacheDir}
     * with older files, a cache save that failed): that would bring revoked certificates back until the next fetch.
     * A CA whose CRL the new store lacks is fail closed (its knocks are refused) and only warned about.
     */
    private static void noRollback(CrlService running, CrlService next, ServerMaterial material)
            throws ReloadRefusedException {
        for (dev.certknock.server.crl.CrlInfo held : running.store().infos()) {
            CaKey ca = held.caKey();
            Optional<dev.certknock.server.crl.CrlInfo> loaded = next.store().info(ca);
            if (loaded.isPresent() && loaded.get().crlNumber().compareTo(held.crlNumber()) < 0) {
                throw new ReloadRefusedException(ConfigLoader.at(material.configFile(), "/crl/cacheDir",
                        "the CRL cache " + material.config().crl().cacheDir() + " holds CRL number "
                        + loaded.get().crlNumber() + " of " + held.issuer().getName() + ", older than number "
                        + held.crlNumber() + " in force: a reload never rolls revocation back; copy the current cache "
                        + "files there or keep the running cacheDir", null).getMessage());
            }
        }
    }

    private static List<String> changes(ServerMaterial was, ServerMaterial now, boolean trustChanged) {
        List<String> changed = new ArrayList<>();
        if (!was.config().server().name().equals(now.config().server().name())) {
            changed.add("server.name");
        }
        if (!keyIds(was).equals(keyIds(now))) {
            changed.add("server.identities");
        }
        if (trustChanged) {
            changed.add("trust");
        }
        if (!was.config().crl().equals(now.config().crl())) {
            changed.add("crl");
        }
        if (!was.config().knock().equals(now.config().knock())) {
            changed.add("knock");
        }
        return changed;
    }

    private static Set<String> keyIds(ServerMaterial m) {
        Set<String> ids = new LinkedHashSet<>();
        m.keys().forEach(k -> ids.add(k.publicKey().keyIdHex()));
        return ids;
    }

    private static void logKeys(ServerMaterial was, ServerMaterial now) {
        Set<String> before = keyIds(was);
        Set<String> after = keyIds(now);
        if (before.equals(after)) {
            return;
        }
        Set<String> added = new LinkedHashSet<>(after);
        added.removeAll(before);
        Set<String> removed = new LinkedHashSet<>(before);
        removed.removeAll(after);
        LOG.info("reload: knock keys now {} (added {}, removed {}); knocks sealed to a removed key are dropped from now on",
                after, added.isEmpty() ? "none" : added, removed.isEmpty() ? "none" : removed);
    }

    @Override
    public void close() {
        synchronized (reloadLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (backgroundRehearsal != null) {
            backgroundRehearsal.close();
        }
        if (statusSocket != null) {
            statusSocket.close();
        }
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        capture.close();
        if (replySocket != null) {
            replySocket.close();
        }
        dispatcher.close();
        if (keepRefused != null) {
            keepRefused.close();
        }
        housekeeping.shutdownNow();
        try {
            LOG.info("stats at stop: {}", stats.line());
        } catch (RuntimeException e) {
            LOG.debug("statistics at stop: {}", LogText.of(e.toString()));
        }
        live.crls().close();
        replay.close();
        sharedReplay.close();
        firewall.close();
        if (audit != null) {
            try {
                audit.close();
            } catch (IOException e) {
                LOG.warn("closing the audit log: {}", LogText.of(e.getMessage()));
            }
        }
        LOG.info("knock-server stopped");
    }

}
