package dev.certknock.protocol.knock;

import java.io.IOException;
import java.security.PublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * How a client signs a knock, chosen by its certificate's key: both give a 64-byte signature. ECDSA
 * signatures are raw {@code r || s}, each 32 bytes big-endian, over SHA-256 of the transcript.
 */
public enum SignatureScheme {
    ECDSA_P256_SHA256,
    ED25519;

    /**
     * The scheme for a certificate key, or null when the key can sign no knock.
     */
    public static SignatureScheme of(PublicKey key) {
        AsymmetricKeyParameter p = lightweightKey(key);
        return p == null ? null : of(p);
    }

    static SignatureScheme of(AsymmetricKeyParameter p) {
        if (p instanceof ECPublicKeyParameters ec && ec.getParameters() instanceof ECNamedDomainParameters named
                && SECObjectIdentifiers.secp256r1.equals(named.getName())) {
            return ECDSA_P256_SHA256;
        }
        if (p instanceof Ed25519PublicKeyParameters) {
            return ED25519;
        }
        return null;
    }

    /** The Bouncy Castle lightweight form of a JCA public key, or null when it cannot be read. */
    static AsymmetricKeyParameter lightweightKey(PublicKey key) {
        byte[] spki = key.getEncoded();
        if (spki == null) {
            return null;
        }
        try {
            return PublicKeyFactory.createKey(SubjectPublicKeyInfo.getInstance(spki));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
