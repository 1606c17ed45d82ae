package dev.certknock.server.pipeline;

import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Last stage: hands the decision to the firewall. A firewall failure is the operator's problem: WARN. */
public final class GrantIssue implements Stage {

    private static final Logger LOG = LoggerFactory.getLogger(GrantIssue.class);

    private final Firewall firewall;

    public GrantIssue(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        try {
            firewall.open(ctx.decision);
            return Outcome.CONTINUE;
        } catch (FirewallException e) {
            LOG.warn("the firewall refused a grant for {}: {}", ctx.decision.address().getHostAddress(), e.getMessage());
            return Outcome.drop(DropReason.FIREWALL_FAILED, "firewall refused the grant");
        }
    }
}
