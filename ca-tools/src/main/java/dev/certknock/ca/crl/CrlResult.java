package dev.certknock.ca.crl;

import java.nio.file.Path;

/** A CRL published by {@code crl}. */
public record CrlResult(long number, String thisUpdate, String nextUpdate, int revokedCount, Path der, Path pem) {
}
