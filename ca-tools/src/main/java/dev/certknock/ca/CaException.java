package dev.certknock.ca;

/**
 * A CA operation that cannot be done, with a message that says what, where and how to fix it. The
 * {@link Kind} tells the command line which exit code to use; services know nothing of the command line.
 */
public final class CaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What kind of failure this is. */
    public enum Kind {
        /** A refused or failed operation (I/O, a state that forbids it). */
        FAILURE,
        /** An input value or file is invalid. */
        BAD_INPUT,
        /** A password is wrong or a key cannot be read. */
        BAD_CREDENTIALS
    }

    private final Kind kind;

    public CaException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public CaException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public static CaException badInput(String message) {
        return new CaException(Kind.BAD_INPUT, message);
    }

    public static CaException failure(String message) {
        return new CaException(Kind.FAILURE, message);
    }

    public Kind kind() {
        return kind;
    }
}
