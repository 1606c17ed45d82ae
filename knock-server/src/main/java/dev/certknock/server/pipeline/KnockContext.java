package dev.certknock.server.pipeline;

import dev.certknock.server.knock.KnockView;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.GrantDecision;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.knock.KnockContent;
import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.protocol.knock.UnverifiedKnock;
import dev.certknock.protocol.knock.VerifiedKnock;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

/**
 * What the stages learn about one datagram as it goes through the pipeline. Each stage fills in its
 * part; later stages read it. Confined to one worker thread.
 */
public final class KnockContext implements KnockView {

    private final ReceivedDatagram datagram;
    private final Instant now;
    KnockFrame frame;
    UnverifiedKnock unverified;
    byte[] leafFingerprint;
    List<X509Certificate> validatedPath;
    /** {@link #validatedPath} as CRLs name its certificates: who holds the grant. */
    List<CertRef> holderPath;
    CertknockGrants certificateGrants;
    /** The least maxOpenSeconds the CAs of the validated path set as bounds; empty when none does. */
    OptionalInt caMaxOpenSeconds = OptionalInt.empty();
    VerifiedKnock verified;
    GrantDecision decision;
    /** Whether the source has failures to spare ({@link SourceRateLimit}); true without a rate limit. */
    boolean sourceInGoodStanding = true;
    /** What to tell the sender of an authenticated v2 knock, when anything: set by {@link Authorization} and {@link GrantIssue}. */
    KnockReply reply;
    /** What to do when the datagram is dropped for something its sender did; set by {@link SourceRateLimit}. */
    Runnable chargeSender;
    /** What to do when the datagram is accepted; set by {@link SourceRateLimit}. */
    Runnable creditSender;

    public KnockContext(ReceivedDatagram datagram, Instant now) {
        this.datagram = datagram;
        this.now = now;
    }

    @Override
    public ReceivedDatagram datagram() {
        return datagram;
    }

    @Override
    public InetSocketAddress source() {
        return datagram.source();
    }

    /** The server's time when the pipeline started on this datagram. */
    @Override
    public Instant now() {
        return now;
    }

    @Override
    public KnockFrame frame() {
        return frame;
    }

    @Override
    public UnverifiedKnock unverified() {
        return unverified;
    }

    /** The content as claimed (signature not yet checked before {@link SignatureCheck}). */
    @Override
    public KnockContent content() {
        return verified != null ? verified.content() : unverified.claimedContent();
    }

    @Override
    public byte[] leafFingerprint() {
        return leafFingerprint;
    }

    /** The certification path that validated: leaf first, then intermediates, not the anchor. */
    @Override
    public List<X509Certificate> validatedPath() {
        return validatedPath;
    }

    @Override
    public CertknockGrants certificateGrants() {
        return certificateGrants;
    }

    @Override
    public VerifiedKnock verified() {
        return verified;
    }

    @Override
    public GrantDecision decision() {
        return decision;
    }

    /** The reply the pipeline asks to send, or null. Only ever set once the knock's signature verified. */
    @Override
    public KnockReply reply() {
        return reply;
    }

    /** Called by the pipeline once, when the datagram is accepted. */
    void accepted() {
        if (creditSender != null) {
            creditSender.run();
        }
    }

    /** Called by the pipeline once, when the datagram is dropped. */
    void dropped(DropReason reason) {
        if (chargeSender != null && reason.chargedToSender()) {
            chargeSender.run();
        }
    }
}
