package dev.certknock.ca.crl;

import java.nio.file.Path;

/**
 * A CRL published by {@code crl}.
 *
 * @param revokedCount    entries on the CRL
 * @param expiredDropped  revoked certificates left out because they expired and were listed once after that
 */
public record CrlResult(long number, String thisUpdate, String nextUpdate, int revokedCount, int expiredDropped, Path der,
        Path pem) {
}
