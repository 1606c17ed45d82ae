package dev.certknock.protocol.knock;

/**
 * Why a datagram was not accepted as a knock: the fixed catalogue the server counts and logs. Listed
 * in the order the checks run, cheapest first.
 */
public enum RejectReason {
    /** Shorter than the smallest well-formed knock. */
    TRUNCATED,
    /** Longer than {@link KnockFormat#MAX_DATAGRAM_SIZE}. */
    OVERSIZED,
    /** The version byte names a protocol version this build does not speak. */
    UNSUPPORTED_VERSION,
    /** The suite byte names no HPKE suite of this version. */
    UNSUPPORTED_SUITE,
    /** Sealed to a server key this server does not hold (or to one of another suite). */
    UNKNOWN_SERVER_KEY,
    /** HPKE open failed: bad encapsulated key, or ciphertext or header altered. */
    DECRYPTION_FAILED,
    /** The sealed content does not parse: bad lengths, counts, values or trailing bytes. */
    MALFORMED_CONTENT,
    /** A certificate in the sealed content is not a parseable X.509 certificate. */
    MALFORMED_CERTIFICATE,
    /** The client certificate's key is of a type that cannot sign knocks (neither P-256 nor Ed25519). */
    UNSUPPORTED_SIGNATURE_KEY,
    /** The signature does not verify with the client certificate's key over the transcript. */
    BAD_SIGNATURE
}
