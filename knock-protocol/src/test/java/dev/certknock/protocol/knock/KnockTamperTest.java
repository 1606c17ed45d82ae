package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.KeyType;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Flip bytes in every region of a knock, at the datagram level and (re-sealed under the same ephemeral
 * key, so only the content differs) inside the sealed content: each gives its specific reason, and
 * nothing altered is ever accepted.
 */
class KnockTamperTest {

    private static final byte[] IKM_E = HexFormat.of().parseHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    private static final byte[] NONCE = HexFormat.of().parseHex("0f0e0d0c0b0a09080706050403020100");

    private final KnockFixtures f = KnockFixtures.p256();
    private final KnockRequest request;
    private final byte[] datagram;
    private final byte[] plaintext;

    KnockTamperTest() throws Exception {
        request = new KnockRequest(List.of(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8100")), 300,
                Optional.of((Inet4Address) InetAddress.getByName("198.51.100.7")),
                Optional.of((Inet6Address) InetAddress.getByName("2001:db8::42")));
        byte[] random = new byte[48];
        System.arraycopy(NONCE, 0, random, 0, 16);
        System.arraycopy(IKM_E, 0, random, 16, 32);
        datagram = new KnockSealer(f.credential, f.serverKey.publicKey(), f.clock, new KnockFixtures.FixedRandom(random))
                .seal(request).datagram();
        plaintext = f.opener().open(KnockFrame.parse(datagram)).plaintextForTest();
        // The re-sealing helper really reproduces the original datagram: tampered copies differ only where flipped.
        assertThat(KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, plaintext)).isEqualTo(datagram);
    }

    static Stream<Arguments> datagramRegions() {
        return Stream.of(
                Arguments.of("version", 0, RejectReason.UNSUPPORTED_VERSION),
                Arguments.of("suite", 1, RejectReason.UNSUPPORTED_SUITE),
                Arguments.of("key id, first byte", 2, RejectReason.UNKNOWN_SERVER_KEY),
                Arguments.of("key id, last byte", 9, RejectReason.UNKNOWN_SERVER_KEY),
                Arguments.of("encapsulated key, first byte (point format)", 10, RejectReason.DECRYPTION_FAILED),
                Arguments.of("encapsulated key, x coordinate", 20, RejectReason.DECRYPTION_FAILED),
                Arguments.of("encapsulated key, last byte", 74, RejectReason.DECRYPTION_FAILED),
                Arguments.of("ciphertext, first byte", 75, RejectReason.DECRYPTION_FAILED),
                Arguments.of("ciphertext, middle", 300, RejectReason.DECRYPTION_FAILED),
                Arguments.of("tag, last byte", -1, RejectReason.DECRYPTION_FAILED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("datagramRegions")
    void flippingADatagramByteGivesItsReason(String region, int offset, RejectReason expected) {
        byte[] d = datagram.clone();
        int at = offset < 0 ? d.length + offset : offset;
        d[at] ^= (byte) 0x80;
        assertThat(f.opener().tryOpen(d)).isInstanceOfSatisfying(OpenResult.Rejected.class,
                r -> assertThat(r.reason()).as(region).isEqualTo(expected));
    }

    @Test
    void everyDatagramByteIsProtected() {
        for (int i = 0; i < datagram.length; i++) {
            for (int bit = 0; bit < 8; bit += 7) {
                byte[] d = datagram.clone();
                d[i] ^= (byte) (1 << bit);
                assertThat(f.opener().tryOpen(d)).as("byte %d bit %d", i, bit).isInstanceOf(OpenResult.Rejected.class);
            }
        }
    }

    /** Offsets inside the plaintext of this fixture's knock (two grants, both addresses, one certificate). */
    static Stream<Arguments> contentRegions() {
        int grants = 30;
        int v4 = grants + 10;
        int v6 = v4 + 4;
        int certCount = v6 + 16;
        return Stream.of(
                Arguments.of("timestamp", 7, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("nonce", 8, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("duration", 27, 0x01, RejectReason.BAD_SIGNATURE),
                Arguments.of("duration out of range", 24, 0x80, RejectReason.MALFORMED_CONTENT),
                Arguments.of("flags (reserved bit)", 28, 0x80, RejectReason.MALFORMED_CONTENT),
                Arguments.of("flags (IPv6 bit cleared)", 28, 0x02, RejectReason.MALFORMED_CONTENT),
                Arguments.of("grant count", 29, 0x80, RejectReason.MALFORMED_CONTENT),
                Arguments.of("grant protocol", grants, 0x80, RejectReason.MALFORMED_CONTENT),
                Arguments.of("grant first port (22 -> 20)", grants + 2, 0x02, RejectReason.BAD_SIGNATURE),
                Arguments.of("grant first port above last", grants + 2, 0x01, RejectReason.MALFORMED_CONTENT),
                Arguments.of("grant last port (22 -> 32790)", grants + 3, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("second grant last port", grants + 8, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("declared IPv4", v4 + 3, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("declared IPv6", v6 + 15, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("certificate count", certCount, 0x80, RejectReason.MALFORMED_CONTENT),
                Arguments.of("certificate length", certCount + 1, 0x80, RejectReason.MALFORMED_CONTENT),
                Arguments.of("certificate DER tag", certCount + 3, 0x80, RejectReason.MALFORMED_CERTIFICATE),
                Arguments.of("certificate signature value", -65, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("signature r", -64, 0x80, RejectReason.BAD_SIGNATURE),
                Arguments.of("signature s", -1, 0x80, RejectReason.BAD_SIGNATURE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contentRegions")
    void flippingASealedFieldGivesItsReason(String region, int offset, int mask, RejectReason expected) {
        byte[] pt = plaintext.clone();
        int at = offset < 0 ? pt.length + offset : offset;
        pt[at] ^= (byte) mask;
        byte[] d = KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, pt);
        assertThat(f.opener().tryOpen(d)).isInstanceOfSatisfying(OpenResult.Rejected.class,
                r -> assertThat(r.reason()).as(region).isEqualTo(expected));
    }

    @Test
    void everySealedByteIsCoveredBySignatureOrParser() {
        Set<RejectReason> allowed = EnumSet.of(RejectReason.BAD_SIGNATURE, RejectReason.MALFORMED_CONTENT,
                RejectReason.MALFORMED_CERTIFICATE, RejectReason.UNSUPPORTED_SIGNATURE_KEY);
        for (int i = 0; i < plaintext.length; i++) {
            byte[] pt = plaintext.clone();
            pt[i] ^= 0x01;
            OpenResult r = f.opener().tryOpen(KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, pt));
            assertThat(r).as("content byte %d", i).isInstanceOfSatisfying(OpenResult.Rejected.class,
                    rej -> assertThat(allowed).contains(rej.reason()));
        }
    }

    @Test
    void contentResealedForAnotherServerFailsTheSignature() {
        KnockFixtures other = new KnockFixtures(KeyType.P256, KeyType.P256);
        byte[] d = KnockSealer.sealRawForTest(KnockVersion.V2, other.serverKey.publicKey(), IKM_E, plaintext);
        assertThat(other.opener().tryOpen(d)).isInstanceOfSatisfying(OpenResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.BAD_SIGNATURE));
    }

    @Test
    void contentResealedUnderAnotherEphemeralKeyFailsTheSignature() {
        byte[] otherIkm = IKM_E.clone();
        otherIkm[0] ^= 1;
        byte[] d = KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), otherIkm, plaintext);
        assertThat(f.opener().tryOpen(d)).isInstanceOfSatisfying(OpenResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.BAD_SIGNATURE));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedNeverOpened() {
        for (int n = 0; n < datagram.length; n++) {
            byte[] d = java.util.Arrays.copyOf(datagram, n);
            OpenResult r = f.opener().tryOpen(d);
            assertThat(r).as("length %d", n).isInstanceOfSatisfying(OpenResult.Rejected.class,
                    rej -> assertThat(rej.reason()).isIn(RejectReason.TRUNCATED, RejectReason.DECRYPTION_FAILED));
        }
        int smallest = KnockFrame.minimumSize(KnockSuite.P256_SHA256_AES128GCM);
        assertThat(((OpenResult.Rejected) f.opener().tryOpen(java.util.Arrays.copyOf(datagram, smallest - 1))).reason())
                .isEqualTo(RejectReason.TRUNCATED);
        assertThat(((OpenResult.Rejected) f.opener().tryOpen(java.util.Arrays.copyOf(datagram, smallest))).reason())
                .isEqualTo(RejectReason.DECRYPTION_FAILED);
    }

    /**
     * Content shorter than the smallest knock's makes a datagram shorter than the smallest frame, refused as
     * TRUNCATED before any cryptography. From that size on the content opens and the decoder, which takes the
     * last 64 bytes as the signature and checks every length against what remains before it, refuses it as
     * MALFORMED_CONTENT wherever it was cut (grants, addresses, certificate length or DER), before any
     * certificate parsing or signature check; one byte too many is "trailing bytes before the signature".
     */
    @Test
    void truncatedContentAtEveryLengthIsMalformed() {
        for (int n = 0; n < plaintext.length; n++) {
            int length = n;
            RejectReason expected = length < KnockFormat.MIN_PLAINTEXT_SIZE ? RejectReason.TRUNCATED : RejectReason.MALFORMED_CONTENT;
            byte[] d = KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, java.util.Arrays.copyOf(plaintext, length));
            assertThat(f.opener().tryOpen(d)).as("content length %d", length).isInstanceOfSatisfying(OpenResult.Rejected.class,
                    r -> assertThat(r.reason()).as("content length %d: %s", length, r.detail()).isEqualTo(expected));
        }
        // The boundary is the smallest knock: 30-byte prefix, one grant, certificate count, a length, one DER byte, signature.
        assertThat(KnockFormat.MIN_PLAINTEXT_SIZE).isEqualTo(103).isLessThan(plaintext.length);
        byte[] longer = java.util.Arrays.copyOf(plaintext, plaintext.length + 1);
        OpenResult.Rejected trailing = (OpenResult.Rejected) f.opener().tryOpen(
                KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, longer));
        assertThat(trailing.reason()).isEqualTo(RejectReason.MALFORMED_CONTENT);
        assertThat(trailing.detail()).isEqualTo("MALFORMED_CONTENT: trailing bytes before the signature");
    }

    @Test
    void trailingAndOversizedDatagramsAreRejected() {
        byte[] longer = java.util.Arrays.copyOf(datagram, datagram.length + 1);
        assertThat(((OpenResult.Rejected) f.opener().tryOpen(longer)).reason()).isEqualTo(RejectReason.DECRYPTION_FAILED);
        assertThat(((OpenResult.Rejected) f.opener().tryOpen(new byte[1233])).reason()).isEqualTo(RejectReason.OVERSIZED);
        assertThat(((OpenResult.Rejected) f.opener().tryOpen(new byte[0])).reason()).isEqualTo(RejectReason.TRUNCATED);
    }
}
