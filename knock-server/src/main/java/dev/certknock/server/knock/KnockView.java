package dev.certknock.server.knock;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.knock.KnockContent;
import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.protocol.knock.UnverifiedKnock;
import dev.certknock.protocol.knock.VerifiedKnock;
import dev.certknock.server.grant.GrantDecision;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * What the pipeline learned about one datagram, read-only: what listeners and the replier see. Each value is
 * null until the stage that finds it out has run (a knock dropped early has only its datagram).
 */
public interface KnockView {

    ReceivedDatagram datagram();

    default InetSocketAddress source() {
        return datagram().source();
    }

    /** The server's time when the pipeline started on this datagram. */
    Instant now();

    KnockFrame frame();

    UnverifiedKnock unverified();

    /** The content as claimed (its signature is checked only once {@link #verified()} is set). */
    KnockContent content();

    byte[] leafFingerprint();

    /** The certification path that validated: leaf first, then intermediates, not the anchor. */
    List<X509Certificate> validatedPath();

    CertknockGrants certificateGrants();

    VerifiedKnock verified();

    GrantDecision decision();

    /** The reply the pipeline asks to send, or null. Only ever set once the knock's signature verified. */
    KnockReply reply();
}
