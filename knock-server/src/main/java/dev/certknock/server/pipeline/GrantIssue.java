package dev.certknock.server.pipeline;

import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
    private final AtomicLong nextWarn = new AtomicLong(System.nanoTime());
    private final AtomicLong suppressed = new AtomicLong();

    public GrantIssue(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            firewall.open(ctx.decision);
            return Outcome.CONTINUE;
        } catch (FirewallException e) {
            long now = System.nanoTime();
            long due = nextWarn.get();
            if (now - due >= 0 && nextWarn.compareAndSet(due, now + TimeUnit.SECONDS.toNanos(WARN_EVERY_SECONDS))) {
                long more = suppressed.getAndSet(0);
                LOG.warn("the firewall refused a grant for {}: {}{}", ctx.decision.address().getHostAddress(),
                        e.getMessage(), more == 0 ? "" : " (and " + more + " more refusals since the last such line)");
            } else {
                suppressed.incrementAndGet();
                LOG.debug("the firewall refused a grant for {}: {}", ctx.decision.address().getHostAddress(),
                        e.getMessage());
            }
            return Outcome.drop(DropReason.FIREWALL_FAILED, "firewall refused the grant");
        }
    }
}
