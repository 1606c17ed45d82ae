package dev.certknock.ca.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;

/**
 * One certificate in the CA database.
 *
 * @param serial the serial number, lower-case hex
 * @param subject the subject DN as text
 * @param kind client, server or ca
 * @param detail what it is for: grants for a client, DNS name and key type for a server
 * @param notBefore ISO-8601 instant
 * @param notAfter ISO-8601 instant
 * @param revokedAt ISO-8601 instant of revocation, or null
 * @param reason the revocation reason name, or null
 */
public record IssuedEntry(String serial, String subject, String kind, String detail, String notBefore, String notAfter,
        String revokedAt, String reason) {

    public static final String CLIENT = "client";
    public static final String SERVER = "server";
    public static final String CA = "ca";

    @JsonIgnore
    public boolean isRevoked() {
        return revokedAt != null;
    }

    public IssuedEntry revoked(Instant at, String reasonName) {
        return new IssuedEntry(serial, subject, kind, detail, notBefore, notAfter, at.toString(), reasonName);
    }

    /** valid, expired or revoked at {@code now}. */
    public String status(Instant now) {
        if (isRevoked()) {
            return "revoked";
        }
        return Instant.parse(notAfter).isBefore(now) ? "expired" : "valid";
    }
}
