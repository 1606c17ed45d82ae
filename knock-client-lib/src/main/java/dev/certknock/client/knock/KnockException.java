package dev.certknock.client.knock;

/**
 * A knock was not sent (a check before sending failed, or the network refused), or the server kept refusing
 * the address it was sent from. The {@link #reason()} says which
 * check; the message says what exactly and what to do.
 */
public final class KnockException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a knock was not sent. */
    public enum Reason {
        /** The server certificate does not chain to the client's CA certificates (at now, revocation not checked). */
        SERVER_CERTIFICATE_UNTRUSTED,
        /** The server certificate is outside its validity period. */
        SERVER_CERTIFICATE_NOT_VALID_NOW,
        /** The server certificate lacks extended key usage id-kp-certknockServer. */
        SERVER_CERTIFICATE_NOT_FOR_KNOCKS,
        /**
         * The server certificate does not name the host knocked on (or the name given instead with
         * {@link KnockClient.Builder#serverName}): a DNS or IP address subjectAltName, as TLS checks it.
         */
        SERVER_NAME_MISMATCH,
        /** The server certificate's key is neither EC P-256 nor X25519. */
        SERVER_KEY_UNSUPPORTED,
        /** The client certificate is outside its validity period (or a certificate of its chain is). */
        CLIENT_CERTIFICATE_NOT_VALID_NOW,
        /** The client certificate lacks extended key usage id-kp-certknockClient. */
        CLIENT_CERTIFICATE_NOT_FOR_KNOCKS,
        /** The client certificate carries no (or a malformed) certknock grants extension. */
        CLIENT_CERTIFICATE_WITHOUT_GRANTS,
        /** A requested grant is not inside the client certificate's grants. */
        GRANT_NOT_PERMITTED,
        /** The client certificate lists servers and this server is not one of them. */
        SERVER_NOT_PERMITTED,
        /** The requested duration exceeds the certificate's maxOpenSeconds. */
        DURATION_NOT_PERMITTED,
        /** A declared address lies outside the certificate's source prefixes. */
        SOURCE_NOT_PERMITTED,
        /** The request itself is invalid: no grants, too many, duration out of range, two addresses of one family. */
        INVALID_REQUEST,
        /** The datagram would exceed 1232 bytes. */
        DATAGRAM_TOO_LARGE,
        /** The signer failed (a token that refuses, for example). */
        SIGNING_FAILED,
        /** The host name does not resolve (to an address of the wanted family). */
        UNKNOWN_HOST,
        /** The local address could not be discovered, or the datagram could not be sent. */
        NETWORK,
        /**
         * The server kept reporting that the knock came from an address it does not declare, after the client
         * declared each address it reported (a NAT that maps every packet to another address).
         */
        ADDRESS_NOT_ACCEPTED
    }

    /** Which check failed. */
    private final Reason reason;

    /**
     * An exception for this reason.
     *
     * @param reason which check
     * @param message what exactly, and what to do
     */
    public KnockException(Reason reason, String message) {
        super(message);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    /**
     * An exception for this reason, with its cause.
     *
     * @param reason which check
     * @param message what exactly, and what to do
     * @param cause the underlying failure
     */
    public KnockException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    /**
     * Which check it was.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }

    @Override
    public String toString() {
        return "KnockException[" + reason + "]: " + getMessage();
    }
}
