package dev.certknock.ca.init;

import java.nio.file.Path;

/** A CA made by {@code init}; {@code bound} is its bound in the inventory's one-line form, or null for none. */
public record InitResult(Path dir, String subject, String serial, String keyType, String notAfter, String fingerprint,
        String issuer, boolean intermediate, String bound) {
}
