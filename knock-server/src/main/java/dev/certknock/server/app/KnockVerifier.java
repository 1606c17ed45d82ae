package dev.certknock.server.app;

import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.LogWriter;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PipelineFactory;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Verdict;
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
    private final Instant at;

    private KnockVerifier(ServerMaterial material, CrlService crls, Instant at) {
        this.material = material;
        this.crls = crls;
        this.at = at;
    }

    /**
     * A verifier that judges as the server would at {@code at}: certificate validity, timestamp window
     * and CRL freshness all at that instant. Loads CRLs once (cache, then each source).
     */
    public static KnockVerifier at(ServerMaterial material, Instant at) {
        CrlService crls = CrlService.create(material, Clock.fixed(at, ZoneOffset.UTC));
        crls.loadOnce();
        return new KnockVerifier(material, crls, at);
    }

    /** The instant the packet claims (its timestamp), if it opens with the server's key. */
    public static Optional<Instant> claimedTime(ServerMaterial material, byte[] datagram) {
        try {
            return Optional.of(KnockOpener.of(material.keys()).open(KnockFrame.parse(datagram)).claimedContent().timestamp());
        } catch (KnockRejectedException e) {
            return Optional.empty();
        }
    }

    /** The verdict for the datagram from this source. */
    public Verdict verify(byte[] datagram, InetSocketAddress source) {
        Clock clock = Clock.fixed(at, ZoneOffset.UTC);
        var config = material.config();
        ReplayGuard replay = ReplayGuard.inMemory(config.knock().timestampWindow(), 16, clock);
        ChainValidator chains = new ChainValidator(material.trust(), crls.store()::generation, 16);
        var parts = new PipelineFactory.Parts(config, KnockOpener.of(material.keys()), chains, crls.store(), replay,
                new GrantLedger(new LogWriter(), GrantLedger.Settings.defaults(), clock, new KnockEventListener() { }), clock);
        KnockPipeline pipeline = new KnockPipeline(PipelineFactory.dryRun(parts), new KnockEventListener() { }, clock);
        return pipeline.process(ReceivedDatagram.of(datagram, source, at));
    }
}
