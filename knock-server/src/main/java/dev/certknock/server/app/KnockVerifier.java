package dev.certknock.server.app;

import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.LogFirewall;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.pipeline.ReceivedDatagram;
import dev.certknock.server.pipeline.Verdict;
import dev.certknock.server.replay.ReplayGuard;
import dev.certknock.server.trust.ChainValidator;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * Runs a saved datagram through the server's checks offline: same keys, trust anchors and CRLs (cache,
 * then sources), no rate limits, no firewall, nothing recorded. The replay state of a running server
 * is not consulted (its journal is locked by that server).
 */
public final class KnockVerifier {

    private final ServerMaterial material;
    private final CrlService crls;

    private KnockVerifier(ServerMaterial material, CrlService crls) {
        this.material = material;
        this.crls = crls;
    }

    /** Loads CRLs once (cache, then each source) for the verdicts to come. */
    public static KnockVerifier create(ServerMaterial material, Clock clock) {
        CrlService crls = CrlService.create(material, clock);
        crls.loadOnce();
        return new KnockVerifier(material, crls);
    }

    /** The instant the packet claims (its timestamp), if it opens with the server's key. */
    public Optional<Instant> claimedTime(byte[] datagram) {
        try {
            return Optional.of(KnockOpener.of(material.keys()).open(KnockFrame.parse(datagram)).claimedContent().timestamp());
        } catch (KnockRejectedException e) {
            return Optional.empty();
        }
    }

    /** The verdict for the datagram from this source, as the server would reach it at {@code at}. */
    public Verdict verify(byte[] datagram, InetSocketAddress source, Instant at) {
        Clock clock = Clock.fixed(at, ZoneOffset.UTC);
        var config = material.config();
        ReplayGuard replay = ReplayGuard.inMemory(config.knock().timestampWindow(), 16, clock);
        ChainValidator chains = new ChainValidator(material.trust(), crls.store()::generation, 16);
        var parts = new PipelineFactory.Parts(config, KnockOpener.of(material.keys()), chains, crls.store(), replay,
                new LogFirewall(clock, new KnockEventListener() { }, 1), clock);
        KnockPipeline pipeline = new KnockPipeline(PipelineFactory.dryRun(parts), new KnockEventListener() { }, clock);
        return pipeline.process(ReceivedDatagram.of(datagram, source, at));
    }
}
