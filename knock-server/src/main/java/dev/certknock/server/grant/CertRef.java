package dev.certknock.server.grant;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A certificate as a CRL names it: the key of the CA that signed it and its serial number. Two CAs with the same
 * name but different keys issue different {@code CertRef}s, so a CRL of one never closes a grant of the other.
 *
 * @param issuerKeyId the first 16 bytes of SHA-256 over the issuing CA's SubjectPublicKeyInfo, 32 lower-case hex
 *                    digits (what {@code crl.CaKey} calls the key id)
 * @param serial      the certificate's serial number
 */
public record CertRef(String issuerKeyId, BigInteger serial) {

    private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{32}");

    public CertRef {
        Objects.requireNonNull(issuerKeyId, "issuerKeyId");
        Objects.requireNonNull(serial, "serial");
        if (!KEY_ID.matcher(issuerKeyId).matches()) {
            throw new IllegalArgumentException("a CA key id is 32 lower-case hex digits, not '" + issuerKeyId + "'");
        }
    }

    /** The key id of a CA's public key: the first 16 bytes of SHA-256 over its SubjectPublicKeyInfo, hex. */
    public static String keyIdOf(PublicKey caKey) {
        return HexFormat.of().formatHex(sha256(caKey.getEncoded()), 0, 16);
    }

    /**
     * The name of this certificate in firewall comments: 16 hex digits, the first 8 bytes of SHA-256 over
     * {@code certknock-cert:<issuerKeyId>:<serial hex>}. Hex only, so nothing from a certificate reaches a firewall
     * script as text; the same in every backend and across restarts.
     */
    public String tag() {
        byte[] h = sha256(("certknock-cert:" + issuerKeyId + ":" + serial.toString(16)).getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(h, 0, 8);
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    @Override
    public String toString() {
        return "serial " + serial.toString(16) + " of CA key " + issuerKeyId;
    }
}
