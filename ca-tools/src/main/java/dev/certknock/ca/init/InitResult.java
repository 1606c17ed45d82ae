package dev.certknock.ca.init;

import java.nio.file.Path;

/** A CA made by {@code init}. */
public record InitResult(Path dir, String subject, String serial, String keyType, String notAfter, String fingerprint,
        String issuer, boolean intermediate) {
}
