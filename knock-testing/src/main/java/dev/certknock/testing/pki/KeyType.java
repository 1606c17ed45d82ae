package dev.certknock.testing.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/** Key types the test PKI makes. X25519 keys can be certified but cannot sign. */
public enum KeyType {
    P256("SHA256withECDSA"),
    ED25519("Ed25519"),
    X25519(null),
    RSA2048("SHA256withRSA");

    private final String signatureAlgorithm;

    KeyType(String signatureAlgorithm) {
        this.signatureAlgorithm = signatureAlgorithm;
    }

    /** The JCA signature algorithm this key signs certificates and CRLs with. */
    public String signatureAlgorithm() {
        if (signatureAlgorithm == null) {
            throw new IllegalStateException(this + " keys cannot sign");
        }
        return signatureAlgorithm;
    }

    public KeyPair generate() {
        try {
            return switch (this) {
                case P256 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                    g.initialize(new ECGenParameterSpec("secp256r1"));
                    yield g.generateKeyPair();
                }
                case ED25519 -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                case X25519 -> KeyPairGenerator.getInstance("X25519").generateKeyPair();
                case RSA2048 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                    g.initialize(2048);
                    yield g.generateKeyPair();
                }
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + this + " key", e);
        }
    }

    /** The type of an existing key pair. */
    public static KeyType of(KeyPair pair) {
        String alg = pair.getPublic().getAlgorithm();
        return switch (alg) {
            case "EC" -> P256;
            case "Ed25519", "EdDSA" -> ED25519;
            case "X25519", "XDH" -> X25519;
            case "RSA" -> RSA2048;
            default -> throw new IllegalArgumentException("unsupported key algorithm " + alg);
        };
    }
}
