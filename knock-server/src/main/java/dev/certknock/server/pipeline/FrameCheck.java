package dev.certknock.server.pipeline;

import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.protocol.knock.RejectReason;

/** Size, version, suite and server key id: no cryptography, so junk costs next to nothing. */
public final class FrameCheck implements Stage {

    private final KnockOpener opener;

    public FrameCheck(KnockOpener opener) {
        this.opener = opener;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            byte[] bytes = ctx.datagram().bytesUnsafe();
            ctx.frame = KnockFrame.parse(bytes, 0, bytes.length);
        } catch (KnockRejectedException e) {
            return Outcome.drop(DropReason.of(e.reason()), e.getMessage());
        }
        if (!opener.holdsKeyFor(ctx.frame)) {
            return Outcome.drop(DropReason.of(RejectReason.UNKNOWN_SERVER_KEY), "sealed to a key this server does not hold");
        }
        return Outcome.CONTINUE;
    }
}
