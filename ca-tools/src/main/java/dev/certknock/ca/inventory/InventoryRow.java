package dev.certknock.ca.inventory;

/** One line of {@code knock-ca list}. */
public record InventoryRow(String serial, String subject, String kind, String detail, String notAfter, String status,
        String revokedAt, String reason) {
}
