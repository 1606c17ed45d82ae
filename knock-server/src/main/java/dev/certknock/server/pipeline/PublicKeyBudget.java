package dev.certknock.server.pipeline;

import dev.certknock.server.ratelimit.TokenBucket;

/** A global budget of public-key operations per second, so a flood from many sources cannot exhaust the CPU. */
public final class PublicKeyBudget implements Stage {

    private final TokenBucket budget;

    public PublicKeyBudget(TokenBucket budget) {
        this.budget = budget;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        return budget.tryAcquire() ? Outcome.CONTINUE
                : Outcome.drop(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED, "global public-key budget spent");
    }
}
