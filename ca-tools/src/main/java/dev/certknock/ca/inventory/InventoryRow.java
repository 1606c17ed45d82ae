package dev.certknock.ca.inventory;

import dev.certknock.ca.inspect.Inspection.GrantInfo;
import java.util.List;

/**
 * One line of {@code knock-ca list}. For a client certificate, {@code grants}, {@code maxOpenSeconds},
 * {@code servers} and {@code sources} are read from the CA's copy of the certificate and shaped as
 * {@code inspect --json} shapes them (servers and sources empty = any, maxOpenSeconds null = the server's
 * limit); they are null for server and CA certificates. When a client certificate's copy or its grants
 * extension cannot be read, they are null too and {@code grantsError} says why; {@code detail}, the
 * human summary recorded at issuance, is always there.
 */
public record InventoryRow(String serial, String subject, String kind, String detail, String notAfter, String status,
        String revokedAt, String reason, List<GrantInfo> grants, Integer maxOpenSeconds, List<String> servers,
        List<String> sources, String grantsError) {
}
