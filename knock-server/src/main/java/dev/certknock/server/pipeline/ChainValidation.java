package dev.certknock.server.pipeline;

import dev.certknock.server.trust.ChainResult;
import dev.certknock.server.trust.ChainValidator;

/** The client's chain: trust anchor, validity now, CA constraints, EKU, grants extension (cached). */
public final class ChainValidation implements Stage {

    private final ChainValidator validator;

    public ChainValidation(ChainValidator validator) {
        this.validator = validator;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        ChainResult r = validator.validate(ctx.unverified.claimedContent().chain(), ctx.leafFingerprint, ctx.now());
        if (r instanceof ChainResult.Valid v) {
            ctx.validatedPath = v.path();
            ctx.certificateGrants = v.grants();
            return Outcome.CONTINUE;
        }
        ChainResult.Invalid invalid = (ChainResult.Invalid) r;
        return Outcome.drop(invalid.reason(), invalid.detail());
    }
}
