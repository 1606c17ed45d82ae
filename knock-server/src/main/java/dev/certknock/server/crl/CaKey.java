package dev.certknock.server.crl;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;

/**
 * One CA key: the CA's subject name and a hash of its public key. CRLs are held per CA key, not per name, so
 * that two CAs with the same name (a new root that keeps the old name) each keep their own CRL.
 *
 * @param name  the CA's subject (the CRL's issuer and the certificates' issuer name)
 * @param keyId the first 16 bytes of SHA-256 over the CA's SubjectPublicKeyInfo, hex: unlike a subject key
 *              identifier, which the CA chooses, two different keys never share it
 */
public record CaKey(X500Principal name, String keyId) {

    public CaKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keyId, "keyId");
    }

    /** The key of a CA certificate. */
    public static CaKey of(X509Certificate ca) {
        return new CaKey(ca.getSubjectX500Principal(), dev.certknock.server.grant.CertRef.keyIdOf(ca.getPublicKey()));
    }

    /** A short, file-name-safe form: a hash of the name, a dash, the key id. */
    public String fileStem() {
        byte[] nameHash = sha256(name.getName(X500Principal.CANONICAL).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(nameHash, 0, 16) + "-" + keyId;
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return name.getName() + " (key " + keyId + ")";
    }
}
