package dev.certknock.ca.issue;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code renew} asks for: a new certificate with the subject, grants and extensions of one the CA issued.
 *
 * @param caDir the CA directory
 * @param caPassword the CA key password
 * @param name the certificate's name (the client name or server DNS name, its CN), or null with {@code serial}
 * @param serial the serial of the certificate to renew (hex), or null with {@code name}
 * @param validFor the new lifetime, or null for the old certificate's
 * @param key where the new certificate's key comes from
 * @param csr the request whose key is certified, with {@link KeySource#CSR}
 * @param out a new key: the PKCS#12 bundle; otherwise the PEM certificate and chain
 * @param certOut with a new key, the certificate alone as PEM, or null for {@code out} with .pem
 * @param bundlePassword with a new key, the bundle's password; otherwise null
 * @param revokeOld revoke the old certificate with reason superseded, in the same database commit
 */
public record RenewRequest(Path caDir, char[] caPassword, String name, String serial, Duration validFor, KeySource key,
        Path csr, Path out, Path certOut, char[] bundlePassword, boolean revokeOld) {

    /** The key a renewed certificate certifies. */
    public enum KeySource {
        /** A fresh key pair of the old key's type, written with the certificate to a PKCS#12 bundle. */
        NEW,
        /** The old certificate's public key, re-certified (the holder keeps the private key). */
        REUSE,
        /** The key in a PKCS#10 request (its signature checked; its subject ignored). */
        CSR
    }
}
