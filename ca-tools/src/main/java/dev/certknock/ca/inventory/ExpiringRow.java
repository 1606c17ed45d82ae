package dev.certknock.ca.inventory;

/**
 * A valid certificate that expires soon, as {@code knock-ca list --expiring --json} prints it.
 *
 * @param name the subject's common name (client name or server DNS name)
 * @param serial the serial number, lower-case hex
 * @param kind client, server or ca
 * @param notAfter when it expires, ISO-8601 UTC to the second
 * @param secondsLeft seconds from now to notAfter
 */
public record ExpiringRow(String name, String serial, String kind, String notAfter, long secondsLeft) {
}
