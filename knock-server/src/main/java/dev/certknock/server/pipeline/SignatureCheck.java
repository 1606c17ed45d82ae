package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.protocol.knock.KnockRejectedException;

/** The client's signature over the whole transcript, with the validated leaf certificate's key. */
public final class SignatureCheck implements Stage {

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            ctx.verified = ctx.unverified.verify();
            return Outcome.CONTINUE;
        } catch (KnockRejectedException e) {
            return Outcome.drop(DropReason.of(e.reason()), e.getMessage());
        }
    }
}
