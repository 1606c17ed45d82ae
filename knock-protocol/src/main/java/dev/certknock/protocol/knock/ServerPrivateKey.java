package dev.certknock.protocol.knock;

import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.util.BigIntegers;

/**
 * A server's knock key pair for opening packets: its private key and the certificate clients seal to.
 * {@link #toString()} never shows key material.
 */
public final class ServerPrivateKey {

    private final ServerPublicKey publicKey;
    private final AsymmetricCipherKeyPair hpkeKeyPair;

    private ServerPrivateKey(ServerPublicKey publicKey, AsymmetricCipherKeyPair hpkeKeyPair) {
        this.publicKey = publicKey;
        this.hpkeKeyPair = hpkeKeyPair;
    }

    /**
     * @param privateKey the server's knock private key (P-256 or X25519), with a PKCS#8 encoding
     * @param certificate the server certificate carrying the matching public key
     * @throws IllegalArgumentException when the key type is unsupported or the two do not match
     */
    public static ServerPrivateKey of(PrivateKey privateKey, X509Certificate certificate) {
        Objects.requireNonNull(privateKey, "privateKey");
        ServerPublicKey pub = ServerPublicKey.fromCertificate(certificate);
        byte[] pkcs8 = privateKey.getEncoded();
        if (pkcs8 == null) {
            throw new IllegalArgumentException("the server private key cannot be exported; it must be a software key");
        }
        AsymmetricKeyParameter parsed;
        try {
            parsed = PrivateKeyFactory.createKey(pkcs8);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the server private key cannot be read: " + e.getMessage(), e);
        }
        byte[] rawPrivate;
        if (pub.suite() == KnockSuite.P256_SHA256_AES128GCM && parsed instanceof ECPrivateKeyParameters ec) {
            rawPrivate = BigIntegers.asUnsignedByteArray(32, ec.getD());
        } else if (pub.suite() == KnockSuite.X25519_SHA256_AES128GCM && parsed instanceof X25519PrivateKeyParameters x) {
            rawPrivate = x.getEncoded();
        } else {
            throw new IllegalArgumentException("the server private key is not of the certificate's key type ("
                    + pub.suite() + ")");
        }
        var hpke = pub.suite().hpke();
        byte[] rawPublic = hpke.serializePublicKey(pub.hpkeKey());
        AsymmetricCipherKeyPair pair = hpke.deserializePrivateKey(rawPrivate, rawPublic);
        // Bouncy Castle does not check that the two halves belong together; we do.
        AsymmetricCipherKeyPair derived = hpke.deserializePrivateKey(rawPrivate, null);
        Arrays.fill(rawPrivate, (byte) 0);
        if (!Arrays.equals(hpke.serializePublicKey(derived.getPublic()), rawPublic)) {
            throw new IllegalArgumentException("the server private key does not belong to the certificate's public key");
        }
        return new ServerPrivateKey(pub, pair);
    }

    public ServerPublicKey publicKey() {
        return publicKey;
    }

    AsymmetricCipherKeyPair hpkeKeyPair() {
        return hpkeKeyPair;
    }

    @Override
    public String toString() {
        return "ServerPrivateKey[" + publicKey.suite() + ", id " + publicKey.keyIdHex() + ", key redacted]";
    }
}
