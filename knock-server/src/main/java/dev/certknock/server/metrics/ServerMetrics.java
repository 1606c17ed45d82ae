package dev.certknock.server.metrics;

import dev.certknock.server.capture.PacketSource;
import dev.certknock.server.crl.CaKey;
import dev.certknock.server.crl.CrlInfo;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.diagnostics.RefusedKeeper;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/**
 * The server's figures as Prometheus metrics (docs/CONFIGURATION.md, {@code metrics}): counters read from
 * {@link KnockCounters} and the capture when scraped, gauges read from the ledger, the CRL store, the dispatcher
 * and the replay guard when scraped, and, as a {@link KnockEventListener}, grants opened and closed and the
 * knock-to-grant latency. Every label has a bounded set of values (drop and close reasons, the trusted CA keys):
 * no address, certificate or serial is ever a label.
 */
public final class ServerMetrics implements KnockEventListener {

    /** Every metric name starts with this. */
    public static final String PREFIX = "certknock";

    /**
     * Buckets of the knock-to-grant latency histogram: from a millisecond (a knock in an idle server) to ten
     * seconds (a backend that stalls).
     */
    static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    /**
     * What the gauges and counters read when scraped.
     *
     * @param trustedCas  the CA keys whose CRL age and freshness are reported (the trust store's; a reload that changes them calls {@link ServerMetrics#bindCrls})
     * @param queueDepth  datagrams waiting in the dispatcher
     * @param replaySize  entries in the replay cache
     * @param budgetUsed  the share (0 to 1) of the public-key budget's burst spent now
     */
    public record Sources(KnockCounters counters, GrantLedger ledger, CrlStore crls, Collection<CaKey> trustedCas,
            PacketSource capture, IntSupplier queueDepth, IntSupplier replaySize, DoubleSupplier budgetUsed) {
        public Sources {
            Objects.requireNonNull(counters, "counters");
            Objects.requireNonNull(ledger, "ledger");
            Objects.requireNonNull(crls, "crls");
            trustedCas = java.util.List.copyOf(trustedCas);
            Objects.requireNonNull(capture, "capture");
            Objects.requireNonNull(queueDepth, "queueDepth");
            Objects.requireNonNull(replaySize, "replaySize");
            Objects.requireNonNull(budgetUsed, "budgetUsed");
        }
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Clock clock;
    private final Counter grantsOpened;
    private final Map<CloseReason, Counter> grantsClosed = new EnumMap<>(CloseReason.class);
    private final Timer latency;
    private final Counter reloadsApplied;
    private final Counter reloadsRefused;
    /** The per-CA CRL gauges, replaced when a reload changes the trusted CAs. Guarded by this. */
    private final java.util.List<io.micrometer.core.instrument.Meter> crlGauges = new java.util.ArrayList<>();

    /** @param version the server's version, for {@code certknock_build_info} */
    public ServerMetrics(Clock clock, String version) {
        this.clock = Objects.requireNonNull(clock, "clock");
        grantsOpened = Counter.builder(PREFIX + ".grants.opened").description("Grants opened (a knock accepted and written)")
                .register(registry);
        for (CloseReason r : CloseReason.values()) {
            grantsClosed.put(r, Counter.builder(PREFIX + ".grants.closed").description("Grants closed, by why")
                    .tag("reason", r.label()).register(registry));
        }
        latency = Timer.builder(PREFIX + ".knock.grant.latency")
                .description("From a knock datagram's capture to its grant opened")
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .register(registry);
        reloadsApplied = Counter.builder(PREFIX + ".reloads").description("Configuration reloads (SIGHUP), by result")
                .tag("result", "applied").register(registry);
        reloadsRefused = Counter.builder(PREFIX + ".reloads").description("Configuration reloads (SIGHUP), by result")
                .tag("result", "refused").register(registry);
        Gauge.builder(PREFIX + ".build.info", () -> 1).description("The server's version").tag("version", version)
                .strongReference(true).register(registry);
    }

    /** Registers the meters that read the server's parts when scraped. Call once, before the first scrape. */
    public void bind(Sources s) {
        FunctionCounter.builder(PREFIX + ".knocks.received", s.counters(), KnockCounters::received)
                .description("Datagrams received on the knock port").register(registry);
        FunctionCounter.builder(PREFIX + ".knocks.accepted", s.counters(), KnockCounters::accepted)
                .description("Knocks accepted").register(registry);
        for (DropReason r : DropReason.values()) {
            FunctionCounter.builder(PREFIX + ".knocks.dropped", s.counters(), c -> c.dropped(r))
                    .description("Datagrams dropped, by reason").tag("reason", r.name()).register(registry);
        }
        Gauge.builder(PREFIX + ".grants.open", s.ledger(), l -> l.active(clock.instant()).size())
                .description("Grants (decisions) open now").strongReference(true).register(registry);
        Gauge.builder(PREFIX + ".grant.elements.open", s.ledger(), GrantLedger::elementCount)
                .description("Firewall elements (address, protocol, port or range) open now").strongReference(true).register(registry);
        Gauge.builder(PREFIX + ".grant.elements.limit", s.ledger(), l -> l.settings().maxElements())
                .description("The most firewall elements open at once (firewall.maxElements)").strongReference(true).register(registry);
        Gauge.builder(PREFIX + ".crl.stale.issuers", s.counters(), KnockCounters::staleCrlIssuers)
                .description("Trusted issuers without a fresh CRL now (their knocks are refused)").strongReference(true).register(registry);
        bindCrls(s.crls(), s.trustedCas());
        FunctionCounter.builder(PREFIX + ".capture.packets", s.capture(), PacketSource::received)
                .description("Datagrams the capture delivered or offered").register(registry);
        FunctionCounter.builder(PREFIX + ".capture.kernel.drops", s.capture(), ServerMetrics::kernelDrops)
                .description("Packets the kernel or the interface dropped before the capture read them (pcap only)")
                .register(registry);
        Gauge.builder(PREFIX + ".dispatch.queue.depth", s.queueDepth(), IntSupplier::getAsInt)
                .description("Datagrams waiting for a worker").strongReference(true).register(registry);
        Gauge.builder(PREFIX + ".replay.cache.size", s.replaySize(), IntSupplier::getAsInt)
                .description("Knocks remembered against replay").strongReference(true).register(registry);
        Gauge.builder(PREFIX + ".public.key.budget.used", s.budgetUsed(), DoubleSupplier::getAsDouble)
                .description("Share of the public-key budget's burst spent now (1: knocks are dropped for budget)")
                .baseUnit("ratio").strongReference(true).register(registry);
    }

    /**
     * {@code certknock_refused_kept_total} by result (written, rate_limited, queue_full, failed): what
     * {@code diagnostics.keepRefused} did with refused datagrams. Call once, when it is configured.
     */
    public void bindRefusedKeeper(RefusedKeeper keeper) {
        Map<String, java.util.function.ToDoubleFunction<RefusedKeeper>> results = new java.util.LinkedHashMap<>();
        results.put("written", RefusedKeeper::written);
        results.put("rate_limited", RefusedKeeper::rateLimited);
        results.put("queue_full", RefusedKeeper::queueFull);
        results.put("failed", RefusedKeeper::failed);
        results.forEach((result, read) -> FunctionCounter.builder(PREFIX + ".refused.kept", keeper, read)
                .description("Refused datagrams diagnostics.keepRefused kept on disk (written) or not, by why")
                .tag("result", result).register(registry));
    }

    /**
     * The CRL age and freshness gauges for these CA keys, read from this store; replaces those registered before
     * (a reload that changed the trust anchors or the CRL settings).
     */
    public synchronized void bindCrls(CrlStore crls, Collection<CaKey> trustedCas) {
        crlGauges.forEach(registry::remove);
        crlGauges.clear();
        for (CaKey ca : trustedCas) {
            String label = ca.toString();
            crlGauges.add(Gauge.builder(PREFIX + ".crl.age", crls, c -> age(c.info(ca)))
                    .description("Seconds since the held CRL's thisUpdate (NaN: none held)").baseUnit("seconds")
                    .tag("ca", label).strongReference(true).register(registry));
            crlGauges.add(Gauge.builder(PREFIX + ".crl.fresh", crls, c -> fresh(c.info(ca)))
                    .description("1 when the CA's CRL is fresh, 0 when stale or missing (knocks refused)")
                    .tag("ca", label).strongReference(true).register(registry));
        }
    }

    /** Counts a reload: applied, or refused (the running configuration stayed in force). */
    public void reloaded(boolean applied) {
        (applied ? reloadsApplied : reloadsRefused).increment();
    }

    private double age(Optional<CrlInfo> info) {
        return info.map(i -> Duration.between(i.thisUpdate(), clock.instant()).toMillis() / 1000.0).orElse(Double.NaN);
    }

    private double fresh(Optional<CrlInfo> info) {
        return info.map(i -> i.isStaleAt(clock.instant()) ? 0.0 : 1.0).orElse(0.0);
    }

    private static double kernelDrops(PacketSource capture) {
        Map<String, Long> f = capture.figures();
        return f.getOrDefault("kernelDropped", 0L) + f.getOrDefault("interfaceDropped", 0L);
    }

    @Override
    public void accepted(Verdict.Accepted verdict, KnockView context) {
        Instant received = context.datagram().receivedAt();
        Duration d = Duration.between(received, clock.instant());
        latency.record(d.isNegative() ? 0 : d.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void grantOpened(GrantDecision decision) {
        grantsOpened.increment();
    }

    @Override
    public void grantClosed(GrantDecision decision, CloseReason why) {
        grantsClosed.get(why).increment();
    }

    /** The Prometheus text exposition format (version 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    /** The content type of {@link #scrape()}. */
    public static String contentType() {
        return "text/plain; version=0.0.4; charset=utf-8";
    }
}
