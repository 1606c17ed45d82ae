package dev.certknock.ca.init;

import dev.certknock.ca.issue.GrantOptions;
import java.nio.file.Path;

/**
 * What {@code knock-ca init} asks for.
 *
 * @param dir the new CA directory (must not exist, or be empty)
 * @param name the CA's common name
 * @param keyType p256 or ed25519
 * @param days validity of the CA certificate
 * @param crlUrl the CRL distribution point URL written into every certificate this CA issues
 * @param crlDays days from a CRL's thisUpdate to its nextUpdate
 * @param publishDir where {@code crl} writes CRLs by default; null for {@code DIR/publish}
 * @param password the password that encrypts the new CA key
 * @param parentDir the CA that signs this one as an intermediate, or null for a self-signed root
 * @param parentPassword that CA's key password, or null
 * @param bound the grants this CA may issue (its own grants extension, a bound on every certificate below it), or
 *     null for a CA that constrains nothing
 */
public record InitRequest(Path dir, String name, String keyType, int days, String crlUrl, int crlDays, Path publishDir,
        char[] password, Path parentDir, char[] parentPassword, GrantOptions bound) {

    /** A CA without a bound. */
    public InitRequest(Path dir, String name, String keyType, int days, String crlUrl, int crlDays, Path publishDir,
            char[] password, Path parentDir, char[] parentPassword) {
        this(dir, name, keyType, days, crlUrl, crlDays, publishDir, password, parentDir, parentPassword, null);
    }
}
