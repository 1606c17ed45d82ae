package dev.certknock.server.replay;

import dev.certknock.protocol.knock.KnockNonce;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * What identifies one knock to the replay guard: the SHA-256 fingerprint of the client's leaf
 * certificate (32 bytes) and the knock's 16-byte nonce, held as six longs so that the record's
 * generated {@code equals} and {@code hashCode} compare values (a record holding arrays would compare
 * identities) and the key is immutable.
 *
 * <p>Never built from signature bytes: ECDSA signatures are malleable, so a replayed packet with
 * {@code (r, n - s)} would look new. The fingerprint and nonce are both covered by the signature.
 *
 * <p>Fingerprint components are big-endian 8-byte slices of the fingerprint in order; the same for
 * the nonce. The canonical constructor accepts any values; use {@link #of(byte[], byte[])} from bytes.
 */
public record ReplayKey(long fingerprint0, long fingerprint1, long fingerprint2, long fingerprint3,
        long nonce0, long nonce1) {

    /** Length of a leaf certificate fingerprint (SHA-256). */
    public static final int FINGERPRINT_SIZE = 32;
    /** Length of a knock nonce. */
    public static final int NONCE_SIZE = 16;
    /** Length of {@link #writeTo(ByteBuffer)}'s output. */
    static final int ENCODED_SIZE = FINGERPRINT_SIZE + NONCE_SIZE;

    /**
     * @param leafFingerprint SHA-256 of the leaf certificate's DER, 32 bytes (not kept)
     * @param nonce the knock's nonce, 16 bytes (not kept)
     * @throws IllegalArgumentException if either is null or of the wrong length
     */
    public static ReplayKey of(byte[] leafFingerprint, byte[] nonce) {
        if (leafFingerprint == null || leafFingerprint.length != FINGERPRINT_SIZE) {
            throw new IllegalArgumentException("a leaf certificate fingerprint is 32 bytes (SHA-256), got "
                    + (leafFingerprint == null ? "null" : leafFingerprint.length + " bytes"));
        }
        if (nonce == null || nonce.length != NONCE_SIZE) {
            throw new IllegalArgumentException("a knock nonce is 16 bytes, got "
                    + (nonce == null ? "null" : nonce.length + " bytes"));
        }
        ByteBuffer f = ByteBuffer.wrap(leafFingerprint);
        ByteBuffer n = ByteBuffer.wrap(nonce);
        return new ReplayKey(f.getLong(), f.getLong(), f.getLong(), f.getLong(), n.getLong(), n.getLong());
    }

    /** {@link #of(byte[], byte[])} with the protocol's nonce type. */
    public static ReplayKey of(byte[] leafFingerprint, KnockNonce nonce) {
        if (nonce == null) {
            throw new IllegalArgumentException("a knock nonce is 16 bytes, got null");
        }
        return of(leafFingerprint, nonce.toByteArray());
    }

    /** A copy of the 32-byte leaf certificate fingerprint. */
    public byte[] leafFingerprint() {
        return ByteBuffer.allocate(FINGERPRINT_SIZE)
                .putLong(fingerprint0).putLong(fingerprint1).putLong(fingerprint2).putLong(fingerprint3).array();
    }

    /** A copy of the 16-byte nonce. */
    public byte[] nonce() {
        return ByteBuffer.allocate(NONCE_SIZE).putLong(nonce0).putLong(nonce1).array();
    }

    /** Writes the 48 bytes fingerprint || nonce at the buffer's position. */
    void writeTo(ByteBuffer out) {
        out.putLong(fingerprint0).putLong(fingerprint1).putLong(fingerprint2).putLong(fingerprint3)
                .putLong(nonce0).putLong(nonce1);
    }

    /** Reads what {@link #writeTo(ByteBuffer)} wrote. */
    static ReplayKey readFrom(ByteBuffer in) {
        return new ReplayKey(in.getLong(), in.getLong(), in.getLong(), in.getLong(), in.getLong(), in.getLong());
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return "ReplayKey[leaf=" + hex.formatHex(leafFingerprint()) + ", nonce=" + hex.formatHex(nonce()) + "]";
    }
}
