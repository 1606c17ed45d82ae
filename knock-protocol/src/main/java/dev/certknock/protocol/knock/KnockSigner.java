package dev.certknock.protocol.knock;

import java.security.GeneralSecurityException;

/**
 * Signs knock transcripts with a client's private key. {@link KnockSigners} makes one for a software
 * key (Bouncy Castle's lightweight API) or for any JCA key, such as one on a PKCS#11 token. An
 * implementation must return exactly 64 bytes in the format of its {@link #scheme()}.
 */
public interface KnockSigner {

    SignatureScheme scheme();

    /**
     * Signs the message (the transcript, not a hash of it: ECDSA hashes with SHA-256 itself).
     *
     * @return 64 bytes: raw {@code r || s} for ECDSA P-256, the signature for Ed25519
     */
    byte[] sign(byte[] message) throws GeneralSecurityException;
}
