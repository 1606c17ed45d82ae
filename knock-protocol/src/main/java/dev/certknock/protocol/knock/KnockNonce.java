package dev.certknock.protocol.knock;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/** The 16 random bytes that make each knock unique; with the certificate, the replay-cache key. */
public final class KnockNonce {

    private final byte[] bytes;

    KnockNonce(byte[] bytes) {
        if (bytes.length != KnockFormat.NONCE_SIZE) {
            throw new IllegalArgumentException("a nonce is 16 bytes");
        }
        this.bytes = bytes.clone();
    }

    public byte[] toByteArray() {
        return bytes.clone();
    }

    /** Constant-time comparison. */
    @Override
    public boolean equals(Object o) {
        return o instanceof KnockNonce other && MessageDigest.isEqual(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
