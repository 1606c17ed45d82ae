package dev.certknock.cli;

/**
 * A failure to report to the user as one clear message and an exit code, without a stack trace. Library
 * services throw their own exceptions; commands translate them into this.
 */
public class UserException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;

    public UserException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public UserException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
