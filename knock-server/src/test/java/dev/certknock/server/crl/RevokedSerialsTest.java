package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.cert.CRLReason;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RevokedSerialsTest {

    private static final Instant WHEN = Instant.parse("2026-03-01T12:00:00Z");

    @Test
    void findsEveryListedSerialOfAnyLengthAndSignAndNothingElse() {
        Random random = new Random(3);
        List<BigInteger> listed = new ArrayList<>();
        RevokedSerials.Builder b = new RevokedSerials.Builder();
        for (int i = 0; i < 2_000; i++) {
            BigInteger serial = new BigInteger(1 + random.nextInt(160), random);
            if (i % 10 == 0) {
                serial = serial.negate(); // malformed certificates have negative serials; they still compare right
            }
            listed.add(serial);
            b.add(serial, WHEN.plusSeconds(i), i % 2 == 0 ? Optional.of(CRLReason.SUPERSEDED) : Optional.empty());
        }
        RevokedSerials serials = b.build();
        for (BigInteger s : listed) {
            assertThat(serials.contains(s)).as("serial %s", s).isTrue();
        }
        for (int i = 0; i < 2_000; i++) {
            BigInteger other = new BigInteger(1 + random.nextInt(160), random).add(BigInteger.valueOf(1L << 40));
            assertThat(serials.contains(other)).isEqualTo(listed.contains(other));
        }
        for (int i = 1; i < serials.size(); i++) {
            assertThat(serials.serial(i - 1)).isLessThan(serials.serial(i));
        }
    }

    @Test
    void aRepeatedSerialKeepsItsFirstEntry() {
        RevokedSerials.Builder b = new RevokedSerials.Builder();
        b.add(BigInteger.TEN, WHEN, Optional.of(CRLReason.KEY_COMPROMISE));
        b.add(BigInteger.ONE, WHEN, Optional.empty());
        b.add(BigInteger.TEN, WHEN.plusSeconds(5), Optional.empty());
        RevokedSerials serials = b.build();
        assertThat(serials.size()).isEqualTo(2);
        assertThat(serials.get(BigInteger.TEN)).isEqualTo(new RevocationStatus.Revoked(WHEN, Optional.of(CRLReason.KEY_COMPROMISE)));
        assertThat(serials.get(BigInteger.ONE)).isEqualTo(new RevocationStatus.Revoked(WHEN, Optional.empty()));
        assertThat(serials.get(BigInteger.TWO)).isNull();
        assertThat(RevokedSerials.EMPTY.contains(BigInteger.ONE)).isFalse();
    }
}
