package dev.certknock.server.pipeline;

import dev.certknock.server.trust.ChainResult;
import dev.certknock.server.trust.ChainValidator;
import java.util.Optional;

/**
 * The client's chain: trust anchor, validity now, CA constraints, EKU, grants extension, the bounds its CAs
 * set on the grants (cached). It runs
 * before the signature check, so on certificates anyone can put in a sealed packet: in the live pipeline
 * each validation is first charged to the {@link PublicKeyBudget}, and when the budget is spent the
 * knock is dropped without running the validator.
 */
public final class ChainValidation implements Stage {

    private final ChainValidator validator;
    private final Optional<PublicKeyBudget> budget;

    /** Uncharged: for the offline pipeline of {@code knock-server verify}. */
    public ChainValidation(ChainValidator validator) {
        this(validator, Optional.empty());
    }

    /** Charged to {@code budget} before every validation. */
    public ChainValidation(ChainValidator validator, PublicKeyBudget budget) {
        this(validator, Optional.of(budget));
    }

    private ChainValidation(ChainValidator validator, Optional<PublicKeyBudget> budget) {
        this.validator = validator;
        this.budget = budget;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        if (budget.isPresent()) {
            Outcome charged = budget.get().charge(ctx, PublicKeyBudget.CHAIN_VALIDATION_COST,
                    "global public-key budget spent before chain validation");
            if (charged instanceof Outcome.Drop) {
                return charged;
            }
        }
        ChainResult r = validator.validate(ctx.unverified.claimedContent().chain(), ctx.leafFingerprint, ctx.now());
        if (r instanceof ChainResult.Valid v) {
            ctx.validatedPath = v.path();
            ctx.holderPath = v.refs();
            ctx.certificateGrants = v.grants();
            ctx.caMaxOpenSeconds = v.caMaxOpenSeconds();
            return Outcome.CONTINUE;
        }
        ChainResult.Invalid invalid = (ChainResult.Invalid) r;
        return Outcome.drop(invalid.reason(), invalid.detail());
    }
}
