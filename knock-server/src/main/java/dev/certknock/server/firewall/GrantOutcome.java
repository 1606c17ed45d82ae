package dev.certknock.server.firewall;

/** What became of a grant handed to the firewall (a failure of the firewall itself is a {@link FirewallException}). */
public sealed interface GrantOutcome {

    /** Open now, until the decision's expiry (or later, when another holder holds an element longer). */
    record Opened() implements GrantOutcome {
    }

    /** Refused before anything was written. */
    record Refused(Refusal reason, String detail) implements GrantOutcome {
    }

    /** Why a grant was refused. */
    enum Refusal {
        /** Its certificate or a CA of its path was revoked after the knock passed the revocation check. */
        REVOKED,
        /** It would take its certificate past {@code firewall.maxElementsPerCertificate}. */
        CERTIFICATE_LIMIT,
        /** It would take the firewall past {@code firewall.maxElements}. */
        TOTAL_LIMIT,
        /** It had expired before its turn came. */
        EXPIRED
    }

    GrantOutcome OPENED = new Opened();
}
