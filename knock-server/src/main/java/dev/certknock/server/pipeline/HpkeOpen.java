package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;

/** HPKE open (one DH) and the protocol's strict parse of the sealed content. */
public final class HpkeOpen implements Stage {

    private final KnockOpener opener;

    public HpkeOpen(KnockOpener opener) {
        this.opener = opener;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            ctx.unverified = opener.open(ctx.frame);
            ctx.leafFingerprint = ctx.unverified.leafFingerprint();
            return Outcome.CONTINUE;
        } catch (KnockRejectedException e) {
            return Outcome.drop(DropReason.of(e.reason()), e.getMessage());
        }
    }
}
