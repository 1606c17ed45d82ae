package dev.certknock.protocol.knock;

import java.util.Arrays;

/**
 * A datagram that passed the cheap checks: size, version, suite. Reading the header costs no
 * cryptography, so a server runs this first and drops junk for nothing. Immutable.
 */
public final class KnockFrame {

    private final byte[] datagram;
    private final KnockSuite suite;
    private final KnockVersion version;

    private KnockFrame(byte[] datagram, KnockVersion version, KnockSuite suite) {
        this.version = version;
        this.datagram = datagram;
        this.suite = suite;
    }

    /**
     * Checks size, version and suite; copies the datagram.
     *
     * @throws KnockRejectedException OVERSIZED, TRUNCATED, UNSUPPORTED_VERSION or UNSUPPORTED_SUITE
     */
    public static KnockFrame parse(byte[] datagram) throws KnockRejectedException {
        return parse(datagram, 0, datagram.length);
    }

    /** As {@link #parse(byte[])}, for a slice of a receive buffer. */
    public static KnockFrame parse(byte[] buffer, int offset, int length) throws KnockRejectedException {
        if (offset < 0 || length < 0 || length > buffer.length - offset) {
            throw new IllegalArgumentException("slice outside the buffer");
        }
        if (length > KnockFormat.MAX_DATAGRAM_SIZE) {
            throw new KnockRejectedException(RejectReason.OVERSIZED, "datagram over 1232 bytes");
        }
        if (length < 2) {
            throw new KnockRejectedException(RejectReason.TRUNCATED, "datagram shorter than a header");
        }
        KnockVersion version = KnockVersion.ofWireId(buffer[offset] & 0xFF);
        if (version == null) {
            throw new KnockRejectedException(RejectReason.UNSUPPORTED_VERSION, "unknown protocol version");
        }
        KnockSuite suite = KnockSuite.ofWireId(buffer[offset + 1] & 0xFF);
        if (suite == null) {
            throw new KnockRejectedException(RejectReason.UNSUPPORTED_SUITE, "unknown suite");
        }
        if (length < minimumSize(suite)) {
            throw new KnockRejectedException(RejectReason.TRUNCATED, "datagram shorter than the smallest knock");
        }
        return new KnockFrame(Arrays.copyOfRange(buffer, offset, offset + length), version, suite);
    }

    /** Header, encapsulated key, AEAD tag and the smallest sealed content (of v1: v2 adds a declared address). */
    static int minimumSize(KnockSuite suite) {
        return KnockFormat.HEADER_SIZE + suite.encSize() + KnockFormat.AEAD_TAG_SIZE + KnockFormat.MIN_PLAINTEXT_SIZE;
    }

    public int version() {
        return datagram[0] & 0xFF;
    }

    public KnockVersion protocolVersion() {
        return version;
    }

    public KnockSuite suite() {
        return suite;
    }

    /** The 8-byte id of the server key the packet is sealed to. */
    public byte[] keyId() {
        return Arrays.copyOfRange(datagram, 2, KnockFormat.HEADER_SIZE);
    }

    /** The key id as a long, for cheap map look-ups. */
    public long keyIdAsLong() {
        return KnockPlaintext.getLong(datagram, 2);
    }

    public int size() {
        return datagram.length;
    }

    /** Header and encapsulated key: the HPKE additional data, and part of the signed transcript. */
    int authenticatedPrefixLength() {
        return KnockFormat.HEADER_SIZE + suite.encSize();
    }

    byte[] authenticatedPrefix() {
        return Arrays.copyOf(datagram, authenticatedPrefixLength());
    }

    byte[] enc() {
        return Arrays.copyOfRange(datagram, KnockFormat.HEADER_SIZE, authenticatedPrefixLength());
    }

    byte[] datagram() {
        return datagram;
    }
}
