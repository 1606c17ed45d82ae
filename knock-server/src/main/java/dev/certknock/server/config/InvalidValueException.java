package dev.certknock.server.config;

/** A configuration value out of range, naming its key (dotted, e.g. {@code limits.workers}) for locating it. */
final class InvalidValueException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String key;

    InvalidValueException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** JSON pointer of the key, e.g. {@code /limits/workers}. */
    String pointer() {
        return "/" + key.replace('.', '/');
    }
}
