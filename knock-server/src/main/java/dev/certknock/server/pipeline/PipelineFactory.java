package dev.certknock.server.pipeline;

import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.ratelimit.SourceRateLimiter;
import dev.certknock.server.ratelimit.TokenBucket;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.replay.SharedReplay;
import dev.certknock.server.trust.ChainValidator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The one place that lists the order of the stages, cheapest first: nothing costs a public-key
 * operation before the frame, rate and budget checks; nothing is recorded before everything passed.
 */
public final class PipelineFactory {

    /**
     * What the stages need.
     *
     * @param clock the wall clock (UTC): knock timestamps and certificate validity are judged on it
     * @param nanoTime a monotonic clock in nanoseconds, for intervals: the rate limits refill on it
     * @param shared the gateway group's replay store ({@code knock.replayStore}), {@link SharedReplay#LOCAL} if none
     */
    public record Parts(ServerConfig config, KnockOpener opener, ChainValidator chains, CrlStore crls,
            ReplayGuard replay, Firewall firewall, Clock clock, LongSupplier nanoTime, SharedReplay shared) {

        public Parts {
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(nanoTime, "nanoTime");
            Objects.requireNonNull(shared, "shared");
        }

        /** Parts of a single gateway: no shared replay store. */
        public Parts(ServerConfig config, KnockOpener opener, ChainValidator chains, CrlStore crls,
                ReplayGuard replay, Firewall firewall, Clock clock, LongSupplier nanoTime) {
            this(config, opener, chains, crls, replay, firewall, clock, nanoTime, SharedReplay.LOCAL);
        }

        /** Parts on the system's monotonic clock, {@link System#nanoTime()}. */
        public Parts(ServerConfig config, KnockOpener opener, ChainValidator chains, CrlStore crls,
                ReplayGuard replay, Firewall firewall, Clock clock) {
            this(config, opener, chains, crls, replay, firewall, clock, System::nanoTime);
        }
    }

    private PipelineFactory() {
    }

    /**
     * The stages that keep per-source and server-wide standing (rate limits, the public-key budget): a reload builds
     * a new pipeline around the same ones, so a reload neither resets a flooding source's standing nor refills the
     * budget, and the dispatcher's tiers (which read them) stay true.
     */
    public record Throttles(SourceRateLimit sources, PublicKeyBudget budget) {
        public Throttles {
            Objects.requireNonNull(sources, "sources");
            Objects.requireNonNull(budget, "budget");
        }
    }

    /** New throttles from the {@code limits} section. */
    public static Throttles throttles(ServerConfig.Limits limits, LongSupplier nanoTime) {
        // The burst holds at least one knock's worth (an HPKE open and a chain validation).
        return new Throttles(new SourceRateLimit(new SourceRateLimiter(limits.perSourcePerSecond(), limits.perSourceBurst(),
                limits.trackedSources(), nanoTime)), new PublicKeyBudget(new TokenBucket(limits.publicKeyOpsPerSecond(),
                Math.max(limits.publicKeyOpsPerSecond(), PublicKeyBudget.MIN_BURST), nanoTime)));
    }

    /** The throttles of a pipeline that {@link #live} built. */
    public static Throttles throttlesOf(List<Stage> live) {
        SourceRateLimit sources = null;
        PublicKeyBudget budget = null;
        for (Stage s : live) {
            if (s instanceof SourceRateLimit l) {
                sources = l;
            } else if (s instanceof PublicKeyBudget b) {
                budget = b;
            }
        }
        return new Throttles(sources, budget);
    }

    /** The live pipeline: rate limits, replay commit, and the firewall at the end. */
    public static List<Stage> live(Parts p) {
        return live(p, throttles(p.config().limits(), p.nanoTime()));
    }

    /** The live pipeline around throttles that already exist (a reload's: see {@link Throttles}). */
    public static List<Stage> live(Parts p, Throttles throttles) {
        List<Stage> stages = new ArrayList<>();
        stages.add(new FrameCheck(p.opener(), p.config().knock().acceptVersion1()));
        stages.add(throttles.sources());
        PublicKeyBudget budget = throttles.budget();
        stages.add(budget);
        stages.add(new HpkeOpen(p.opener()));
        addValidation(stages, p, new ChainValidation(p.chains(), budget));
        stages.add(new ReplayCommit(p.replay(), p.shared(), p.clock()));
        stages.add(new GrantIssue(p.firewall(), p.nanoTime()));
        return stages;
    }

    /**
     * The offline pipeline of {@code knock-server verify}: the same checks, but no rate limits, nothing
     * recorded in the replay state and no firewall.
     */
    public static List<Stage> dryRun(Parts p) {
        List<Stage> stages = new ArrayList<>();
        stages.add(new FrameCheck(p.opener(), p.config().knock().acceptVersion1()));
        stages.add(new HpkeOpen(p.opener()));
        addValidation(stages, p, new ChainValidation(p.chains()));
        return stages;
    }

    private static void addValidation(List<Stage> stages, Parts p, ChainValidation chainValidation) {
        ServerConfig.Knock knock = p.config().knock();
        RefusedAddresses refused = new RefusedAddresses();
        stages.add(new TimestampWindow(knock.timestampWindow()));
        stages.add(new ReplayLookup(p.replay(), refused));
        stages.add(chainValidation);
        stages.add(new RevocationCheck(p.crls()));
        stages.add(new SignatureCheck());
        stages.add(new Authorization(p.config().server().name(), p.config().protect(), knock.defaultOpenSeconds(),
                knock.maxOpenSeconds(), knock.declaredAddress(), refused));
    }
}
