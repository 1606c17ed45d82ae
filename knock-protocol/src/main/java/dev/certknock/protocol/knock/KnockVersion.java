package dev.certknock.protocol.knock;

import java.nio.charset.StandardCharsets;

/**
 * The knock protocol versions this build speaks. Both share the datagram layout of docs/PROTOCOL.md; they
 * differ in their labels (so a v1 transcript or HPKE context can never be taken for a v2 one) and in what
 * the content must say:
 * <ul>
 *   <li>{@link #V2}, the default: the client signs the address it sends from (at least one declared
 *       address), the server opens only for a source that is a signed address, and it may answer an
 *       authenticated knock with a reply sealed under a key exported from the knock's own HPKE context
 *       ({@link KnockReply});</li>
 *   <li>{@link #V1}: the declared addresses are optional and the server never answers. A server reads it
 *       only when its operator opts in, since nothing signed ties a v1 knock that declares nothing to the
 *       address it comes from.</li>
 * </ul>
 */
public enum KnockVersion {
    V1(0x01, "certknock v1 knock", "certknock v1 knock signature\0"),
    V2(0x02, "certknock v2 knock", "certknock v2 knock signature\0");

    private final int wireId;
    private final byte[] hpkeInfo;
    private final byte[] signatureLabel;

    KnockVersion(int wireId, String hpkeInfo, String signatureLabel) {
        this.wireId = wireId;
        this.hpkeInfo = hpkeInfo.getBytes(StandardCharsets.US_ASCII);
        this.signatureLabel = signatureLabel.getBytes(StandardCharsets.US_ASCII);
    }

    /** The first byte of the datagram. */
    public int wireId() {
        return wireId;
    }

    /** True when the client must declare (and so sign) at least one address, and the server may reply. */
    public boolean bindsAddress() {
        return this == V2;
    }

    byte[] hpkeInfo() {
        return hpkeInfo;
    }

    byte[] signatureLabel() {
        return signatureLabel;
    }

    /** The version with this first byte, or null. */
    public static KnockVersion ofWireId(int id) {
        for (KnockVersion v : values()) {
            if (v.wireId == id) {
                return v;
            }
        }
        return null;
    }
}
