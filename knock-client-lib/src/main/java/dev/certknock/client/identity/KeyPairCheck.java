package dev.certknock.client.identity;

import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/**
 * Whether a private key is the one of a public key, by deriving the public key from the private one (Bouncy
 * Castle's lightweight API): for EC, Q = d·G with the fixed-point comb multiplier, whose table lookups do not
 * depend on the scalar; for Ed25519, the public key of RFC 8032. The comparison is constant-time. This replaces a
 * test signature and its verification (two more scalar multiplications, and the JDK's SunEC provider loaded for
 * one check) where the key's encoding is readable; a key that is not (a token's) still signs a test message.
 */
final class KeyPairCheck {

    /** The answer; {@code UNKNOWN} when this check cannot tell (another key type, an unreadable encoding). */
    enum Result { MATCHES, DIFFERS, UNKNOWN }

    private KeyPairCheck() {
    }

    static Result check(PrivateKey privateKey, PublicKey publicKey) {
        byte[] pkcs8 = privateKey.getEncoded();
        byte[] spki = publicKey.getEncoded();
        if (pkcs8 == null || spki == null) {
            return Result.UNKNOWN;
        }
        AsymmetricKeyParameter priv;
        AsymmetricKeyParameter pub;
        try {
            priv = PrivateKeyFactory.createKey(pkcs8);
            pub = PublicKeyFactory.createKey(spki);
        } catch (IOException | RuntimeException e) {
            return Result.UNKNOWN;
        } finally {
            java.util.Arrays.fill(pkcs8, (byte) 0);
        }
        if (priv instanceof ECPrivateKeyParameters ec && pub instanceof ECPublicKeyParameters ecPub) {
            ECDomainParameters domain = ec.getParameters();
            BigInteger d = ec.getD();
            if (d.signum() <= 0 || d.compareTo(domain.getN()) >= 0) {
                return Result.UNKNOWN; // not a canonical scalar: the test signature decides
            }
            if (!domain.getCurve().equals(ecPub.getParameters().getCurve())
                    || !domain.getG().equals(ecPub.getParameters().getG())) {
                return Result.DIFFERS;
            }
            ECPoint derived = new FixedPointCombMultiplier().multiply(domain.getG(), d).normalize();
            return MessageDigest.isEqual(derived.getEncoded(false), ecPub.getQ().normalize().getEncoded(false))
                    ? Result.MATCHES : Result.DIFFERS;
        }
        if (priv instanceof Ed25519PrivateKeyParameters ed && pub instanceof Ed25519PublicKeyParameters edPub) {
            return MessageDigest.isEqual(ed.generatePublicKey().getEncoded(), edPub.getEncoded())
                    ? Result.MATCHES : Result.DIFFERS;
        }
        return Result.UNKNOWN;
    }
}
