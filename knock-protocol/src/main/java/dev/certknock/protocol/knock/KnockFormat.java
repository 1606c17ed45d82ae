package dev.certknock.protocol.knock;

import java.nio.charset.StandardCharsets;

/** Constants of the knock packet (versions 1 and 2 share them). docs/PROTOCOL.md is the normative description. */
public final class KnockFormat {

    /** IPv6 minimum MTU 1280 minus 40 bytes of IPv6 header and 8 of UDP: a knock never fragments. */
    public static final int MAX_DATAGRAM_SIZE = 1232;

    public static final int VERSION_1 = 0x01;

    public static final int VERSION_2 = 0x02;

    /** version (1) + suite (1) + server key id (8). */
    public static final int HEADER_SIZE = 10;

    public static final int KEY_ID_SIZE = 8;

    public static final int NONCE_SIZE = 16;

    public static final int AEAD_TAG_SIZE = 16;

    public static final int SIGNATURE_SIZE = 64;

    public static final int MAX_GRANTS = 16;

    /** Leaf certificate plus at most three intermediates. */
    public static final int MAX_CERTIFICATES = 4;

    public static final int MIN_DURATION_SECONDS = 1;

    public static final int MAX_DURATION_SECONDS = 86_400;

    /** timestamp 8, nonce 16, duration 4, flags 1, grant count 1. */
    static final int FIXED_PREFIX_SIZE = 30;

    static final int GRANT_SIZE = 5;

    static final int FLAG_IPV4 = 0x01;

    static final int FLAG_IPV6 = 0x02;

    /** The smallest plaintext: fixed prefix, one grant, chain count, one 1-byte certificate, signature. */
    static final int MIN_PLAINTEXT_SIZE = FIXED_PREFIX_SIZE + GRANT_SIZE + 1 + 2 + 1 + SIGNATURE_SIZE;

    /** The first byte of a v2 reply: never a knock version, so a reply is never read as a knock. */
    public static final int REPLY_V2 = 0x82;

    /** HPKE exporter context for the reply key of a v2 knock (RFC 9180 section 5.3). */
    static final byte[] REPLY_EXPORT_CONTEXT = "certknock v2 reply key".getBytes(StandardCharsets.US_ASCII);

    static final int REPLY_KEY_SIZE = 16;

    static final int REPLY_NONCE_SIZE = 12;

    private KnockFormat() {
    }
}
