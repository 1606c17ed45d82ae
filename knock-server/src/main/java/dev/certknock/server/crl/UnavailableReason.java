package dev.certknock.server.crl;

/** Why {@link CrlStore#status} cannot say whether a certificate is revoked. */
public enum UnavailableReason {
    /** No CRL is held for the certificate's issuer. */
    NO_CRL,
    /** The issuer's CRL is past nextUpdate plus the stale grace. */
    STALE
}
