package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.protocol.knock.KnockVersion;
import dev.certknock.protocol.knock.RejectReason;
import java.util.EnumSet;
import java.util.Set;

/**
 * Size, version, suite and server key id: no cryptography, so junk costs next to nothing. Knock v1 passes
 * only when the operator accepts it ({@code knock.acceptVersion1}).
 */
public final class FrameCheck implements Stage {

    private final KnockOpener opener;
    private final Set<KnockVersion> accepted;

    /** A frame check that accepts knock v2 only. */
    public FrameCheck(KnockOpener opener) {
        this(opener, false);
    }

    public FrameCheck(KnockOpener opener, boolean acceptVersion1) {
        this.opener = opener;
        this.accepted = acceptVersion1 ? EnumSet.allOf(KnockVersion.class) : EnumSet.of(KnockVersion.V2);
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            ctx.frame = ctx.datagram().parseFrame();
        } catch (KnockRejectedException e) {
            return Outcome.drop(DropReason.of(e.reason()), e.getMessage());
        }
        if (!accepted.contains(ctx.frame.protocolVersion())) {
            return Outcome.drop(DropReason.UNSUPPORTED_VERSION, "knock v1 is not accepted (knock.acceptVersion1)");
        }
        if (!opener.holdsKeyFor(ctx.frame)) {
            return Outcome.drop(DropReason.of(RejectReason.UNKNOWN_SERVER_KEY), "sealed to a key this server does not hold");
        }
        return Outcome.CONTINUE;
    }
}
