package dev.certknock.server.crl;

/** Why {@link CrlStore#offer} refused a CRL. */
public enum RejectionReason {
    /**
     * Not exactly one DER CRL (or PEM that decodes to one), or structurally invalid: a malformed extension (an
     * issuingDistributionPoint that is not one, a CRL number that is not an INTEGER), malformed times or entries,
     * nextUpdate before thisUpdate. Every decoding failure of outside bytes ends here, never as an exception.
     */
    UNPARSEABLE,
    /** The issuer is not one of the trusted CAs, or none of them with that name may sign CRLs (keyUsage without cRLSign). */
    UNKNOWN_ISSUER,
    /** The signature does not verify with the public key of any trusted CA of the issuer's name. */
    BAD_SIGNATURE,
    /** thisUpdate is later than now plus {@link CrlStore#MAX_CLOCK_SKEW}. */
    THIS_UPDATE_IN_FUTURE,
    /** No cRLNumber extension: rollback could not be detected. */
    MISSING_CRL_NUMBER,
    /** No nextUpdate (RFC 5280 requires it): freshness could not be judged. */
    MISSING_NEXT_UPDATE,
    /** A lower CRL number than the CRL held for the issuer. */
    ROLLBACK,
    /**
     * A CRL kind certknock does not evaluate: a delta CRL, a partial CRL (an issuingDistributionPoint naming a
     * distribution point, or with onlySomeReasons, indirectCRL, or one of the onlyContains flags), or one with an
     * unknown critical extension or critical entry extension.
     */
    UNSUPPORTED
}
