package dev.certknock.server.grant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.server.firewall.HolderTags;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The names of certificates that every backend writes into the firewall, and reads back after a restart. */
class CertRefTest {

    static final String KEY = "0123456789abcdef0123456789abcdef";

    @Test
    void theTagIsTheFirstEightBytesOfSha256OverKeyIdAndHexSerial() throws Exception {
        // worked out independently of CertRef: the documented input, hashed here
        byte[] h = MessageDigest.getInstance("SHA-256")
                .digest(("certknock-cert:" + KEY + ":1f").getBytes(StandardCharsets.US_ASCII));
        assertThat(new CertRef(KEY, BigInteger.valueOf(0x1f)).tag()).isEqualTo(HexFormat.of().formatHex(h, 0, 8))
                .matches("[0-9a-f]{16}");
        assertThat(new CertRef(KEY, BigInteger.valueOf(0x20)).tag()).isNotEqualTo(new CertRef(KEY, BigInteger.valueOf(0x1f)).tag());
        assertThat(new CertRef(KEY.replace('0', '1'), BigInteger.valueOf(0x1f)).tag())
                .as("the same serial from another CA key").isNotEqualTo(new CertRef(KEY, BigInteger.valueOf(0x1f)).tag());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0123", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcdef0"})
    void aKeyIdIsThirtyTwoLowerCaseHexDigits(String keyId) {
        assertThatThrownBy(() -> new CertRef(keyId, BigInteger.ONE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void holderTagsRoundTripAndForeignCommentsGiveNone() {
        Holder h = new Holder(new X500Principal("CN=carol"), new X500Principal("CN=issuing"),
                List.of(new CertRef(KEY, BigInteger.TEN), new CertRef(KEY.replace('a', 'b'), BigInteger.TWO)));
        String comment = HolderTags.format(h);
        assertThat(comment).startsWith("ck1 ").hasSizeLessThanOrEqualTo(4 + 17 * Holder.MAX_PATH);
        assertThat(HolderTags.parse(comment)).containsExactlyInAnyOrderElementsOf(h.tags());
        assertThat(h.heldUnderAny(Set.of(h.path().get(1).tag()))).isTrue();
        assertThat(h.heldUnderAny(Set.of(new CertRef(KEY, BigInteger.ONE).tag()))).isFalse();
        for (String foreign : new String[] {null, "", "ck1", "ck1 ", "certknock s=1f i=0011223344556677",
            "ck:19a266fa010ca53f:1f", "ck1 0123456789ABCDEF", "ck1 0123456789abcdef\" -exist", "ck2 0123456789abcdef",
            "ck1 0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdef"}) {
            assertThat(HolderTags.parse(foreign)).as("'%s'", foreign).isEmpty();
        }
    }

    @Test
    void aPathHasOneToSixCertificates() {
        X500Principal n = new X500Principal("CN=x");
        assertThatThrownBy(() -> new Holder(n, n, List.of())).isInstanceOf(IllegalArgumentException.class);
        List<CertRef> seven = java.util.Collections.nCopies(7, new CertRef(KEY, BigInteger.ONE));
        assertThatThrownBy(() -> new Holder(n, n, seven)).isInstanceOf(IllegalArgumentException.class);
    }
}
