package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.ratelimit.TokenBucket;

/**
 * A global budget of public-key work per second, so a flood from many sources cannot exhaust the CPU.
 * As a stage it charges one HPKE open ({@link #HPKE_OPEN_COST}); {@link ChainValidation} charges a chain
 * validation ({@link #CHAIN_VALIDATION_COST}) to the same budget before it runs, since a sealed packet
 * with any certificates in it reaches chain validation before its signature is checked.
 *
 * <p>A source in good standing ({@link SourceRateLimit}) may spend the whole budget; a source in bad
 * standing only what lies above the reserve, half the burst, and is dropped
 * {@link DropReason#SOURCE_RATE_LIMITED} otherwise. Sources whose packets keep failing can thus use
 * spare capacity, but never the reserve that clean sources draw on during a flood.
 */
public final class PublicKeyBudget implements Stage {

    /** The unit: one HPKE open (one Diffie-Hellman). */
    public static final double HPKE_OPEN_COST = 1;
    /**
     * A chain validation: 2.5 to 4 times an HPKE open when the validator's cache misses (PKIX path
     * building and one signature check per certificate). Charged for every validation, as the pipeline
     * cannot know before the call whether the validator will answer from its cache.
     */
    public static final double CHAIN_VALIDATION_COST = 4;
    /** The least burst a budget needs: one HPKE open and one chain validation, what a knock costs. */
    public static final double MIN_BURST = HPKE_OPEN_COST + CHAIN_VALIDATION_COST;

    private final TokenBucket budget;
    private final double reserve;

    /** @param budget its burst should be at least {@link #MIN_BURST}, or no knock can ever pass */
    public PublicKeyBudget(TokenBucket budget) {
        this.budget = budget;
        this.reserve = budget.burst() / 2;
    }

    /**
     * What the budget keeps above its reserve before sources in bad standing are given a datagram to
     * open: a whole knock (an HPKE open and a chain validation) with room for another worker's open in
     * flight, so a valid knock from a source in bad standing (its address spoofed) that is handed over is
     * not then dropped at its chain validation for want of budget.
     */
    public static final double SPARE_HEADROOM = 2 * MIN_BURST;

    /**
     * Whether the budget holds {@link #SPARE_HEADROOM} above its reserve: what sources in bad standing
     * may spend. Takes nothing. The dispatcher holds such sources' datagrams in the queue while it is
     * false rather than hand them to a worker only to be dropped {@link DropReason#SOURCE_RATE_LIMITED}.
     */
    public boolean hasSpare() {
        return budget.hasTokens(reserve + SPARE_HEADROOM);
    }

    /** Public-key operations a second, in {@link #HPKE_OPEN_COST} units. */
    public double perSecond() {
        return budget.ratePerSecond();
    }

    /** The share of the burst spent now: 0 when full, 1 when empty (metrics). Takes nothing. */
    public double usedShare() {
        return Math.max(0, Math.min(1, 1 - budget.available() / budget.burst()));
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        return charge(ctx, HPKE_OPEN_COST, "global public-key budget spent");
    }

    /**
     * Takes {@code cost} from the budget for the context's source: from all of it in good standing, from
     * what is above the reserve otherwise.
     */
    Outcome charge(KnockContext ctx, double cost, String detail) {
        if (ctx.sourceInGoodStanding) {
            return budget.tryAcquire(cost) ? Outcome.CONTINUE
                    : Outcome.drop(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED, detail);
        }
        return budget.tryAcquireAbove(cost, reserve) ? Outcome.CONTINUE
                : Outcome.drop(DropReason.SOURCE_RATE_LIMITED, "source over its failure rate, no spare public-key budget");
    }
}
