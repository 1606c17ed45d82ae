package dev.certknock.protocol.grant;

/**
 * A certknock grants extension (or its certificate wrapping) is malformed: it is not DER, does not follow the
 * {@code CertknockGrants} ASN.1 module, or breaks one of the limits the decoder enforces.
 *
 * <p>This is a <em>checked</em> exception on purpose: the extension comes from a certificate an attacker may have
 * chosen, and every caller has to decide what a malformed one means (the server refuses the knock and audits it).
 * It is the only exception {@link GrantsExtension#decode} and {@link GrantsExtension#fromCertificate} throw for
 * bad input. The message says what is wrong and where, for example
 * {@code "grant 2: lastPort 21 is lower than firstPort 22"}; positions count from 1.
 */
public final class GrantsFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    public GrantsFormatException(String message) {
        super(message);
    }

    public GrantsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
