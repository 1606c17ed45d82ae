package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.server.event.LogText;
import dev.certknock.server.event.LogThrottle;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantOutcome;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last stage: hands the decision to the firewall. A firewall failure is the operator's problem: WARN, at most
 * one line every {@value #WARN_EVERY_SECONDS} s (the rest counted in the next line and, per knock, as
 * {@code FIREWALL_FAILED}), since an authenticated client that knocks in a loop must not flood the log either.
 */
public final class GrantIssue implements Stage {

    private static final Logger LOG = LoggerFactory.getLogger(GrantIssue.class);

    static final int WARN_EVERY_SECONDS = 10;

    private final Firewall firewall;
    private final LogThrottle warnings;

    public GrantIssue(Firewall firewall) {
        this(firewall, System::nanoTime);
    }

    /** @param nanoTime a monotonic clock in nanoseconds, for the interval between WARN lines */
    public GrantIssue(Firewall firewall, LongSupplier nanoTime) {
        this.firewall = firewall;
        this.warnings = new LogThrottle(1, Duration.ofSeconds(WARN_EVERY_SECONDS), nanoTime);
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            GrantOutcome outcome = firewall.open(ctx.decision);
            if (outcome instanceof GrantOutcome.Refused refused) {
                LOG.debug("not opened: {}", LogText.of(refused.detail()));
                return switch (refused.reason()) {
                    // a CRL landed while this knock was in the pipeline: what the revocation check would now say
                    case REVOKED -> Outcome.drop(DropReason.REVOKED, "certificate revoked while the knock was processed");
                    case CERTIFICATE_LIMIT -> Outcome.drop(DropReason.CERTIFICATE_ELEMENT_LIMIT,
                            "the certificate holds as many firewall elements as it may");
                    case TOTAL_LIMIT -> Outcome.drop(DropReason.FIREWALL_ELEMENT_LIMIT,
                            "the firewall holds as many elements as it may");
                    case EXPIRED -> Outcome.drop(DropReason.CERTIFICATE_EXPIRED, "the grant expired before it opened");
                };
            }
            ctx.reply = new KnockReply.Opened(ctx.now().toEpochMilli(), ctx.source(),
                    (int) Math.min(Integer.MAX_VALUE, ctx.decision.duration().toSeconds()));
            return Outcome.CONTINUE;
        } catch (FirewallException e) {
            OptionalLong more = warnings.acquire();
            if (more.isPresent()) {
                LOG.warn("the firewall refused a grant for {}: {}{}", ctx.decision.address().getHostAddress(),
                        LogText.of(e.getMessage()), more.getAsLong() == 0 ? ""
                                : " (and " + more.getAsLong() + " more refusals since the last such line)");
            } else {
                LOG.debug("the firewall refused a grant for {}: {}", ctx.decision.address().getHostAddress(),
                        LogText.of(e.getMessage()));
            }
            return Outcome.drop(DropReason.FIREWALL_FAILED, "firewall refused the grant");
        }
    }
}
