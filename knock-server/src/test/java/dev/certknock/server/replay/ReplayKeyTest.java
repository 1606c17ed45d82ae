package dev.certknock.server.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ReplayKeyTest {

    static byte[] bytes(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return b;
    }

    @Test
    void equalBytesGiveEqualKeysAndTheBytesRoundTrip() {
        byte[] fp = bytes(32, 1);
        byte[] nonce = bytes(16, 2);
        ReplayKey a = ReplayKey.of(fp, nonce);
        ReplayKey b = ReplayKey.of(fp.clone(), nonce.clone());

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.leafFingerprint()).isEqualTo(fp);
        assertThat(a.nonce()).isEqualTo(nonce);
    }

    @Test
    void theKeyDoesNotShareTheCallersArrays() {
        byte[] fp = bytes(32, 1);
        byte[] nonce = bytes(16, 2);
        ReplayKey key = ReplayKey.of(fp, nonce);
        fp[0] ^= 1;
        nonce[15] ^= 1;
        key.leafFingerprint()[3] ^= 1;

        assertThat(key).isEqualTo(ReplayKey.of(bytes(32, 1), bytes(16, 2)));
    }

    @Test
    void aDifferenceInAnyByteOfFingerprintOrNonceGivesAnotherKey() {
        ReplayKey base = ReplayKey.of(bytes(32, 1), bytes(16, 2));
        for (int i = 0; i < 32; i++) {
            byte[] fp = bytes(32, 1);
            fp[i] ^= (byte) 0x80;
            assertThat(ReplayKey.of(fp, bytes(16, 2))).as("fingerprint byte %d", i).isNotEqualTo(base);
        }
        for (int i = 0; i < 16; i++) {
            byte[] nonce = bytes(16, 2);
            nonce[i] ^= 1;
            assertThat(ReplayKey.of(bytes(32, 1), nonce)).as("nonce byte %d", i).isNotEqualTo(base);
        }
    }

    @Test
    void wrongLengthsAndNullsAreRefused() {
        assertThatThrownBy(() -> ReplayKey.of(bytes(20, 1), bytes(16, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes").hasMessageContaining("20");
        assertThatThrownBy(() -> ReplayKey.of(bytes(32, 1), bytes(12, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16 bytes").hasMessageContaining("12");
        assertThatThrownBy(() -> ReplayKey.of(null, bytes(16, 2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ReplayKey.of(bytes(32, 1), (byte[]) null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodingIsFingerprintThenNonceAndReadsBack() {
        ReplayKey key = ReplayKey.of(bytes(32, 5), bytes(16, 6));
        ByteBuffer buffer = ByteBuffer.allocate(ReplayKey.ENCODED_SIZE);
        key.writeTo(buffer);

        assertThat(buffer.array()).startsWith(bytes(32, 5)).endsWith(bytes(16, 6));
        assertThat(ReplayKey.readFrom(buffer.flip())).isEqualTo(key);
    }

    @Test
    void toStringShowsBothInHex() {
        ReplayKey key = ReplayKey.of(bytes(32, 5), bytes(16, 6));
        assertThat(key.toString()).contains(HexFormat.of().formatHex(bytes(32, 5)))
                .contains(HexFormat.of().formatHex(bytes(16, 6)));
    }
}
