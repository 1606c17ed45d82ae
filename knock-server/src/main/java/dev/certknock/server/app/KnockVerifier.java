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
import dev.certknock.server.crl.RevocationStatus;
import java.net.InetSocketAddress;
import java.security.cert.CRLReason;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
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

    /**
     * The certificate a datagram carries, when it opens with the server's key (signature not checked: this names
     * whom the knock claims to come from), with the first certificate of its chain that the CRLs held list as
     * revoked, if any.
     */
    public Optional<Holder> holder(byte[] datagram) {
        List<X509Certificate> chain;
        try {
            chain = KnockOpener.of(material.keys()).open(KnockFrame.parse(datagram)).claimedContent().chain();
        } catch (KnockRejectedException | RuntimeException e) {
            return Optional.empty(); // not opened, or no parsable certificate: nothing to name
        }
        if (chain.isEmpty()) {
            return Optional.empty();
        }
        Optional<Revocation> revoked = Optional.empty();
        for (int i = 0; i < chain.size() && revoked.isEmpty(); i++) {
            RevocationStatus s = crls.store().status(chain.get(i), i + 1 < chain.size() ? chain.get(i + 1) : null);
            if (s instanceof RevocationStatus.Revoked r) {
                revoked = Optional.of(new Revocation(chain.get(i), r.revocationDate(), r.reason()));
            }
        }
        return Optional.of(new Holder(chain.get(0), revoked));
    }

    /** The certificate a knock carries (its leaf) and, when one of its chain is listed on a CRL held, that entry. */
    public record Holder(X509Certificate certificate, Optional<Revocation> revocation) {
    }

    /** A certificate listed on a CRL: when it was revoked and why (the CRL entry's reason code, when it has one). */
    public record Revocation(X509Certificate certificate, Instant date, Optional<CRLReason> reason) {
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
