package dev.certknock.client.identity;

/**
 * A client identity could not be loaded. The {@link #reason()} says what kind of problem it is (a caller maps
 * it to an exit code or a dialog); the message says what exactly, without secrets.
 */
public final class IdentityException extends Exception {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** The bundle file cannot be read (missing, unreadable). */
        UNREADABLE,
        /** The bundle is not a PKCS#12 file, or is corrupt. */
        MALFORMED,
        /** The password does not open the bundle or the key. */
        WRONG_PASSWORD,
        /** No private key entry (or not the alias asked for). */
        NO_KEY,
        /** Several private keys and no alias to choose one. */
        AMBIGUOUS_KEY,
        /** The key or its certificate cannot sign knocks (not EC P-256 or Ed25519, or they do not match). */
        UNSUPPORTED_KEY
    }

    /** What went wrong. */
    private final Reason reason;

    /**
     * An exception for this reason.
     *
     * @param reason which problem
     * @param message what exactly, and what to do
     */
    public IdentityException(Reason reason, String message) {
        super(message);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    /**
     * An exception for this reason, with its cause.
     *
     * @param reason which problem
     * @param message what exactly, and what to do
     * @param cause the underlying failure
     */
    public IdentityException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    /**
     * Which problem it was.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }
}
