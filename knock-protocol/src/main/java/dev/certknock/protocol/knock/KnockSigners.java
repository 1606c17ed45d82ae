package dev.certknock.protocol.knock;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.util.BigIntegers;

/** Makes {@link KnockSigner}s. */
public final class KnockSigners {

    private KnockSigners() {
    }

    /**
     * A signer for a software private key (P-256 or Ed25519) through Bouncy Castle's lightweight API,
     * several times faster than the JDK's. ECDSA signatures are deterministic (RFC 6979). The key is
     * copied into the signer; the signer is thread-safe.
     *
     * @throws InvalidKeyException when the key cannot be exported or is of an unsupported type
     */
    public static KnockSigner forPrivateKey(PrivateKey key) throws InvalidKeyException {
        Objects.requireNonNull(key, "key");
        byte[] pkcs8 = key.getEncoded();
        if (pkcs8 == null) {
            throw new InvalidKeyException("the private key cannot be exported (a token key?): use KnockSigners.viaJca");
        }
        AsymmetricKeyParameter p;
        try {
            p = PrivateKeyFactory.createKey(pkcs8);
        } catch (IOException | RuntimeException e) {
            throw new InvalidKeyException("the private key cannot be read: " + e.getMessage());
        }
        if (p instanceof ECPrivateKeyParameters ec && ec.getParameters() instanceof ECNamedDomainParameters named
                && SECObjectIdentifiers.secp256r1.equals(named.getName())) {
            return new EcdsaSigner(ec);
        }
        if (p instanceof Ed25519PrivateKeyParameters ed) {
            return new EdSigner(ed);
        }
        throw new InvalidKeyException("knock signing keys must be EC P-256 or Ed25519, not " + key.getAlgorithm());
    }

    /**
     * A signer that goes through JCA {@link Signature} ("SHA256withECDSA" or "Ed25519"), for keys that
     * cannot leave their provider, such as PKCS#11 tokens.
     *
     * @param provider the provider holding the key, or null for the default provider selection
     */
    public static KnockSigner viaJca(PrivateKey key, SignatureScheme scheme, Provider provider) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(scheme, "scheme");
        return new JcaSigner(key, scheme, provider);
    }

    private record EcdsaSigner(ECPrivateKeyParameters key) implements KnockSigner {
        @Override
        public SignatureScheme scheme() {
            return SignatureScheme.ECDSA_P256_SHA256;
        }

        @Override
        public byte[] sign(byte[] message) {
            ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
            signer.init(true, key);
            BigInteger[] rs = signer.generateSignature(Digests.sha256(message));
            return rawSignature(rs[0], rs[1]);
        }

        @Override
        public String toString() {
            return "KnockSigner[ECDSA P-256, key redacted]";
        }
    }

    private record EdSigner(Ed25519PrivateKeyParameters key) implements KnockSigner {
        @Override
        public SignatureScheme scheme() {
            return SignatureScheme.ED25519;
        }

        @Override
        public byte[] sign(byte[] message) {
            Ed25519Signer signer = new Ed25519Signer();
            signer.init(true, key);
            signer.update(message, 0, message.length);
            return signer.generateSignature();
        }

        @Override
        public String toString() {
            return "KnockSigner[Ed25519, key redacted]";
        }
    }

    private record JcaSigner(PrivateKey key, SignatureScheme scheme, Provider provider) implements KnockSigner {
        @Override
        public byte[] sign(byte[] message) throws GeneralSecurityException {
            String alg = scheme == SignatureScheme.ED25519 ? "Ed25519" : "SHA256withECDSA";
            Signature s = provider == null ? Signature.getInstance(alg) : Signature.getInstance(alg, provider);
            s.initSign(key);
            s.update(message);
            byte[] out = s.sign();
            if (scheme == SignatureScheme.ED25519) {
                return out;
            }
            try {
                ASN1Sequence seq = ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(out));
                return rawSignature(ASN1Integer.getInstance(seq.getObjectAt(0)).getPositiveValue(),
                        ASN1Integer.getInstance(seq.getObjectAt(1)).getPositiveValue());
            } catch (IOException | RuntimeException e) {
                throw new java.security.SignatureException("the provider returned a malformed ECDSA signature", e);
            }
        }

        @Override
        public String toString() {
            return "KnockSigner[" + scheme + " via JCA, key redacted]";
        }
    }

    static byte[] rawSignature(BigInteger r, BigInteger s) {
        byte[] out = new byte[64];
        BigIntegers.asUnsignedByteArray(r, out, 0, 32);
        BigIntegers.asUnsignedByteArray(s, out, 32, 32);
        return out;
    }
}
