package dev.certknock.ca.issue;

import java.nio.file.Path;

/**
 * What {@code issue-client} asks for.
 *
 * @param caDir the CA directory
 * @param caPassword the CA key password
 * @param name the client's name (subject CN)
 * @param grants the grants
 * @param criticalGrants mark the grants extension critical (not recommended: generic verifiers then refuse it)
 * @param validFor how long after issue it is valid (notBefore is backdated {@link SigningCa#BACKDATE} more)
 * @param keyType p256 or ed25519, for a key made here (ignored with a CSR)
 * @param csr a certificate request whose key the client keeps, or null to make a key and a bundle
 * @param out the PKCS#12 bundle (with a key made here) or the PEM certificate and chain (with a CSR)
 * @param certOut the certificate alone as PEM, or null for {@code out} with the extension .pem
 * @param bundlePassword the bundle's password (null with a CSR)
 */
public record ClientRequest(Path caDir, char[] caPassword, String name, GrantOptions grants, boolean criticalGrants, java.time.Duration validFor,
        String keyType, Path csr, Path out, Path certOut, char[] bundlePassword) {
}
