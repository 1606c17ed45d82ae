package dev.certknock.server.knock;

import dev.certknock.protocol.knock.RejectReason;

/**
 * Why the server dropped a datagram: one catalogue, counted per reason, in the order the checks run.
 * Attacker-triggered reasons are never logged above DEBUG.
 */
public enum DropReason {
    QUEUE_FULL,
    TRUNCATED,
    OVERSIZED,
    UNSUPPORTED_VERSION,
    UNSUPPORTED_SUITE,
    UNKNOWN_SERVER_KEY,
    SOURCE_RATE_LIMITED,
    PUBLIC_KEY_BUDGET_EXHAUSTED,
    DECRYPTION_FAILED,
    MALFORMED_CONTENT,
    MALFORMED_CERTIFICATE,
    TIMESTAMP_TOO_OLD,
    TIMESTAMP_IN_FUTURE,
    REPLAY,
    CERTIFICATE_EXPIRED,
    CERTIFICATE_NOT_YET_VALID,
    UNTRUSTED_CHAIN,
    MISSING_CLIENT_EKU,
    MISSING_GRANTS,
    MALFORMED_GRANTS,
    /**
     * The client certificate's grants reach outside the bound a CA of its path sets with its own grants extension
     * (or that CA's extension cannot be read): docs/GRANT-EXTENSION.md.
     */
    GRANT_OUTSIDE_CA_BOUND,
    REVOKED,
    REVOCATION_UNAVAILABLE,
    UNSUPPORTED_SIGNATURE_KEY,
    BAD_SIGNATURE,
    WRONG_SERVER,
    GRANT_NOT_IN_CERTIFICATE,
    GRANT_NOT_PROTECTED,
    /** A v2 knock from a source it does not declare (answered with the observed address, never opened). */
    ADDRESS_NOT_SIGNED,
    DECLARED_ADDRESS_REQUIRED,
    DECLARED_ADDRESS_MISMATCH,
    SOURCE_NOT_ALLOWED,
    REPLAY_CACHE_FULL,
    /**
     * The gateway group's shared replay store ({@code knock.replayStore}) did not answer within its deadline: the
     * knock is refused, since it might have been granted at another gateway already (docs/DESIGN.md D36).
     */
    REPLAY_STORE_UNAVAILABLE,
    /** The grant would take its certificate past {@code firewall.maxElementsPerCertificate}. */
    CERTIFICATE_ELEMENT_LIMIT,
    /** The grant would take the firewall past {@code firewall.maxElements}. */
    FIREWALL_ELEMENT_LIMIT,
    FIREWALL_FAILED,
    INTERNAL_ERROR;

    /**
     * Whether a drop for this reason is the sender's doing, to be charged to its source
     * ({@link SourceRateLimit}): false for the server's own limits and failures (queue, rate limits,
     * budget, CRL availability, replay capacity, firewall, bugs), true for everything the packet got
     * wrong, including reasons added later.
     */
    public boolean chargedToSender() {
        return switch (this) {
            case QUEUE_FULL, SOURCE_RATE_LIMITED, PUBLIC_KEY_BUDGET_EXHAUSTED, REVOCATION_UNAVAILABLE,
                    REPLAY_CACHE_FULL, REPLAY_STORE_UNAVAILABLE, FIREWALL_FAILED, FIREWALL_ELEMENT_LIMIT, INTERNAL_ERROR -> false;
            default -> true;
        };
    }

    /** The server reason for a protocol-level rejection. */
    public static DropReason of(RejectReason r) {
        return switch (r) {
            case TRUNCATED -> TRUNCATED;
            case OVERSIZED -> OVERSIZED;
            case UNSUPPORTED_VERSION -> UNSUPPORTED_VERSION;
            case UNSUPPORTED_SUITE -> UNSUPPORTED_SUITE;
            case UNKNOWN_SERVER_KEY -> UNKNOWN_SERVER_KEY;
            case DECRYPTION_FAILED -> DECRYPTION_FAILED;
            case MALFORMED_CONTENT -> MALFORMED_CONTENT;
            case MALFORMED_CERTIFICATE -> MALFORMED_CERTIFICATE;
            case UNSUPPORTED_SIGNATURE_KEY -> UNSUPPORTED_SIGNATURE_KEY;
            case BAD_SIGNATURE -> BAD_SIGNATURE;
        };
    }
}
