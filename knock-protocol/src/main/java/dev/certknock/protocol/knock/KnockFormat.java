package dev.certknock.protocol.knock;

import java.nio.charset.StandardCharsets;

/** Constants of knock packet version 1. docs/PROTOCOL.md is the normative description. */
public final class KnockFormat {

    /** IPv6 minimum MTU 1280 minus 40 bytes of IPv6 header and 8 of UDP: a knock never fragments. */
    public static final int MAX_DATAGRAM_SIZE = 1232;

    public static final int VERSION_1 = 0x01;

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

    /** HPKE info string for every v1 knock. */
    static final byte[] HPKE_INFO = "certknock v1 knock".getBytes(StandardCharsets.US_ASCII);

    /** Domain-separation label at the start of every v1 signature transcript (with a 0 byte after it). */
    static final byte[] SIGNATURE_LABEL = "certknock v1 knock signature\0".getBytes(StandardCharsets.US_ASCII);

    private KnockFormat() {
    }
}
