package dev.certknock.protocol.knock;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * A knock that opened under the server's key and parsed, whose signature has not been checked: anyone
 * holding the server's public key can seal such a packet. Its fields may steer cheap checks (timestamp,
 * replay look-up, cached chain validation), never a decision. {@link #verify()} gives the
 * {@link VerifiedKnock}.
 */
public final class UnverifiedKnock {

    private final KnockContent content;
    private final ServerPublicKey serverKey;
    private final byte[] authenticatedPrefix;
    private final byte[] plaintext;
    private final KnockVersion version;
    private final ReplyKey replyKey;

    UnverifiedKnock(KnockVersion version, KnockContent content, ServerPublicKey serverKey, byte[] authenticatedPrefix,
            byte[] plaintext, ReplyKey replyKey) {
        this.version = version;
        this.replyKey = replyKey;
        this.content = content;
        this.serverKey = serverKey;
        this.authenticatedPrefix = authenticatedPrefix;
        this.plaintext = plaintext;
    }

    /** The claimed content: not yet authenticated. */
    public KnockContent claimedContent() {
        return content;
    }

    /** The decrypted plaintext, for tests in this package. */
    byte[] plaintextForTest() {
        return plaintext.clone();
    }

    public KnockVersion version() {
        return version;
    }

    /** The server key the packet was opened with. */
    public ServerPublicKey serverKey() {
        return serverKey;
    }

    /** SHA-256 of the leaf certificate's DER: the key for caches of chain validation results. */
    public byte[] leafFingerprint() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content.certificate().getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks the client's signature with the leaf certificate's key.
     *
     * @throws KnockRejectedException UNSUPPORTED_SIGNATURE_KEY or BAD_SIGNATURE
     */
    public VerifiedKnock verify() throws KnockRejectedException {
        AsymmetricKeyParameter key = SignatureScheme.lightweightKey(content.certificate().getPublicKey());
        SignatureScheme scheme = key == null ? null : SignatureScheme.of(key);
        if (scheme == null) {
            throw new KnockRejectedException(RejectReason.UNSUPPORTED_SIGNATURE_KEY,
                    "client key is neither P-256 nor Ed25519");
        }
        int contentLength = plaintext.length - KnockFormat.SIGNATURE_SIZE;
        byte[] transcript = Transcript.of(version, serverKey.spkiSha256(), authenticatedPrefix, plaintext, contentLength);
        boolean ok;
        try {
            ok = switch (scheme) {
                case ECDSA_P256_SHA256 -> {
                    ECDSASigner v = new ECDSASigner();
                    v.init(false, (ECPublicKeyParameters) key);
                    yield v.verifySignature(Digests.sha256(transcript),
                            new BigInteger(1, java.util.Arrays.copyOfRange(plaintext, contentLength, contentLength + 32)),
                            new BigInteger(1, java.util.Arrays.copyOfRange(plaintext, contentLength + 32, plaintext.length)));
                }
                case ED25519 -> {
                    Ed25519Signer v = new Ed25519Signer();
                    v.init(false, (Ed25519PublicKeyParameters) key);
                    v.update(transcript, 0, transcript.length);
                    yield v.verifySignature(java.util.Arrays.copyOfRange(plaintext, contentLength, plaintext.length));
                }
            };
        } catch (RuntimeException e) {
            ok = false;
        }
        if (!ok) {
            throw new KnockRejectedException(RejectReason.BAD_SIGNATURE, "signature does not verify");
        }
        return new VerifiedKnock(version, content, serverKey, replyKey);
    }
}
