package dev.certknock.protocol.knock;

import org.bouncycastle.crypto.hpke.HPKE;

/**
 * The HPKE suites of knock v1, one per server key type. Both use HKDF-SHA256 and AES-128-GCM in HPKE
 * base mode (RFC 9180); the wire byte names the KEM.
 */
public enum KnockSuite {
    /** DHKEM(P-256, HKDF-SHA256) 0x0010, HKDF-SHA256 0x0001, AES-128-GCM 0x0001. */
    P256_SHA256_AES128GCM(0x01, HPKE.kem_P256_SHA256, 65),
    /** DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, AES-128-GCM 0x0001. */
    X25519_SHA256_AES128GCM(0x02, HPKE.kem_X25519_SHA256, 32);

    private final int wireId;
    private final short kemId;
    private final int encSize;
    private final ThreadLocal<HPKE> hpke;

    KnockSuite(int wireId, short kemId, int encSize) {
        this.wireId = wireId;
        this.kemId = kemId;
        this.encSize = encSize;
        // Bouncy Castle's HPKE objects are cheap to use but not documented as thread-safe: one per thread.
        this.hpke = ThreadLocal.withInitial(
                () -> new HPKE(HPKE.mode_base, kemId, HPKE.kdf_HKDF_SHA256, HPKE.aead_AES_GCM128));
    }

    /** The suite byte in the datagram header. */
    public int wireId() {
        return wireId;
    }

    /** The RFC 9180 KEM identifier. */
    public short kemId() {
        return kemId;
    }

    /** Length of the encapsulated key (Nenc): 65 for P-256 (uncompressed point), 32 for X25519. */
    public int encSize() {
        return encSize;
    }

    /** This thread's Bouncy Castle HPKE instance for the suite. */
    HPKE hpke() {
        return hpke.get();
    }

    /** The suite with this wire byte, or null. */
    public static KnockSuite ofWireId(int id) {
        for (KnockSuite s : values()) {
            if (s.wireId == id) {
                return s;
            }
        }
        return null;
    }
}
