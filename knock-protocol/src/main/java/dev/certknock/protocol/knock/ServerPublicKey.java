package dev.certknock.protocol.knock;

import java.io.IOException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;

/**
 * A server's knock key as a client sees it: the key packets are sealed to, its suite, and its key id
 * (the first 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER). Immutable and thread-safe.
 */
public final class ServerPublicKey {

    private final KnockSuite suite;
    private final byte[] spkiSha256;
    private final AsymmetricKeyParameter hpkeKey;

    private ServerPublicKey(KnockSuite suite, byte[] spkiSha256, AsymmetricKeyParameter hpkeKey) {
        this.suite = suite;
        this.spkiSha256 = spkiSha256;
        this.hpkeKey = hpkeKey;
    }

    /** The knock key in a server certificate (P-256 or, per RFC 8410, X25519). */
    public static ServerPublicKey fromCertificate(X509Certificate certificate) {
        return fromPublicKey(Objects.requireNonNull(certificate, "certificate").getPublicKey());
    }

    /**
     * @throws IllegalArgumentException when the key is neither an EC P-256 nor an X25519 key
     */
    public static ServerPublicKey fromPublicKey(PublicKey key) {
        byte[] spki = Objects.requireNonNull(key, "key").getEncoded();
        if (spki == null) {
            throw new IllegalArgumentException("the server key has no encoding: " + key.getAlgorithm());
        }
        return fromSubjectPublicKeyInfo(spki);
    }

    static ServerPublicKey fromSubjectPublicKeyInfo(byte[] spkiDer) {
        AsymmetricKeyParameter parsed;
        try {
            parsed = PublicKeyFactory.createKey(SubjectPublicKeyInfo.getInstance(spkiDer));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the server key cannot be read: " + e.getMessage(), e);
        }
        KnockSuite suite;
        byte[] raw;
        if (parsed instanceof ECPublicKeyParameters ec && ec.getParameters() instanceof ECNamedDomainParameters named
                && SECObjectIdentifiers.secp256r1.equals(named.getName())) {
            suite = KnockSuite.P256_SHA256_AES128GCM;
            raw = ec.getQ().getEncoded(false);
        } else if (parsed instanceof X25519PublicKeyParameters x) {
            suite = KnockSuite.X25519_SHA256_AES128GCM;
            raw = x.getEncoded();
        } else {
            throw new IllegalArgumentException(
                    "the server key must be EC P-256 or X25519 (RFC 8410); this one is not: issue the server a P-256 or X25519 knock key");
        }
        AsymmetricKeyParameter hpkeKey = suite.hpke().deserializePublicKey(raw);
        return new ServerPublicKey(suite, Digests.sha256(spkiDer), hpkeKey);
    }

    public KnockSuite suite() {
        return suite;
    }

    /** The 8-byte key id written in the header of every packet sealed to this key. */
    public byte[] keyId() {
        return Arrays.copyOf(spkiSha256, KnockFormat.KEY_ID_SIZE);
    }

    public String keyIdHex() {
        return HexFormat.of().formatHex(spkiSha256, 0, KnockFormat.KEY_ID_SIZE);
    }

    /** SHA-256 of the SubjectPublicKeyInfo: binds the signature to this exact server key. */
    byte[] spkiSha256() {
        return spkiSha256;
    }

    AsymmetricKeyParameter hpkeKey() {
        return hpkeKey;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerPublicKey other && Arrays.equals(spkiSha256, other.spkiSha256);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(spkiSha256);
    }

    @Override
    public String toString() {
        return "ServerPublicKey[" + suite + ", id " + keyIdHex() + "]";
    }
}
