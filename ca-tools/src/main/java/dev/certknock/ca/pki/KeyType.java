package dev.certknock.ca.pki;

import dev.certknock.ca.CaException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/** The key types knock-ca makes: which commands accept which is checked by {@link #parse}. */
public enum KeyType {
    /** ECDSA / ECDH on NIST P-256 (secp256r1). */
    P256("p256", "EC P-256"),
    /** Ed25519 signatures (RFC 8410). */
    ED25519("ed25519", "Ed25519"),
    /** X25519 key agreement (RFC 8410): server knock keys only. */
    X25519("x25519", "X25519");

    private final String label;
    private final String description;

    KeyType(String label, String description) {
        this.label = label;
        this.description = description;
    }

    public String label() {
        return label;
    }

    public String description() {
        return description;
    }

    /**
     * Parses a key type name ({@code p256}, {@code p-256}, {@code ed25519}, {@code x25519}) and checks that
     * it is one of {@code allowed} for {@code purpose}.
     */
    public static KeyType parse(String text, Set<KeyType> allowed, String purpose) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        KeyType found = switch (t) {
            case "p256", "p-256", "ec", "secp256r1", "prime256v1" -> P256;
            case "ed25519" -> ED25519;
            case "x25519" -> X25519;
            default -> null;
        };
        String choices = Arrays.stream(values()).filter(allowed::contains).map(KeyType::label)
                .collect(Collectors.joining(" or "));
        if (found == null) {
            throw CaException.badInput("unknown key type '" + text + "' for the " + purpose + ": use " + choices);
        }
        if (!allowed.contains(found)) {
            throw CaException.badInput("key type " + found.label + " cannot be used for the " + purpose + ": use " + choices);
        }
        return found;
    }

    /** Generates a fresh key pair of this type. */
    public KeyPair generate(SecureRandom random) {
        try {
            KeyPairGenerator g;
            switch (this) {
                case P256 -> {
                    g = KeyPairGenerator.getInstance("EC", Pki.PROVIDER);
                    g.initialize(new ECGenParameterSpec("secp256r1"), random);
                }
                case ED25519 -> {
                    g = KeyPairGenerator.getInstance("Ed25519", Pki.PROVIDER);
                    g.initialize(255, random);
                }
                case X25519 -> {
                    g = KeyPairGenerator.getInstance("X25519", Pki.PROVIDER);
                    g.initialize(255, random);
                }
                default -> throw new IllegalStateException(name());
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + description + " key", e);
        }
    }

    /** The type of a public key, or null when it is none knock-ca knows. */
    public static KeyType of(PublicKey key) {
        return of(SubjectPublicKeyInfo.getInstance(key.getEncoded()));
    }

    /** The type of a SubjectPublicKeyInfo, or null when it is none knock-ca knows. */
    public static KeyType of(SubjectPublicKeyInfo spki) {
        ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(alg)
                && SECObjectIdentifiers.secp256r1.equals(spki.getAlgorithm().getParameters())) {
            return P256;
        }
        if (EdECObjectIdentifiers.id_Ed25519.equals(alg)) {
            return ED25519;
        }
        if (EdECObjectIdentifiers.id_X25519.equals(alg)) {
            return X25519;
        }
        return null;
    }

    /** A readable name of any public key: "EC P-256", "Ed25519", or the algorithm name. */
    public static String describe(PublicKey key) {
        KeyType t = of(key);
        return t != null ? t.description : key.getAlgorithm();
    }
}
