package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CRLReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CRL near the default {@code crl.maxBytes} (10 MiB): what the store keeps after accepting it is compact
 * and bounded by the CRL's size (its own accounting, {@link CrlStore#retainedBytes}), and look-ups stay right.
 */
class BigCrlTest {

    static final int ENTRIES = 195_000;
    private static final MutableClock CLOCK = MutableClock.at(Instant.parse("2026-03-01T12:00:00Z"));
    private static final TestCa CA = TestCa.root("CN=big CRL CA", CLOCK);
    private static final List<BigInteger> SERIALS = new ArrayList<>();
    private static byte[] der;

    /** 195,000 entries with 20-byte serials (as CAs make them) and a reason code each: just under 10 MiB. */
    @BeforeAll
    static void makeTheCrl() {
        Random random = new Random(7);
        HandMadeCrl crl = HandMadeCrl.of(CA, CLOCK.instant());
        for (int i = 0; i < ENTRIES; i++) {
            BigInteger serial = new BigInteger(159, random).setBit(152);
            SERIALS.add(serial);
            crl.revoke(serial);
        }
        der = crl.der();
    }

    @Test
    void whatIsKeptIsCompactAndBoundedByTheCrlsSize() {
        CrlStore store = new CrlStore(List.of(CA.certificate()), CLOCK, Duration.ZERO);
        CrlUpdate update = store.offer(der, "big");
        assertThat(update).isInstanceOfSatisfying(CrlUpdate.Accepted.class,
                a -> assertThat(a.newlyRevokedSerials()).hasSize(ENTRIES));
        assertThat(der.length).isBetween(9_000_000, 10 << 20);
        assertThat(store.info(CA.certificate().getSubjectX500Principal()).orElseThrow().entries()).isEqualTo(ENTRIES);

        long retained = store.retainedBytes();
        // a 20-byte serial, its offset, a date and a reason: 20 + 4 + 8 + 1 bytes per entry, about 6.4 MB in all,
        // less than the CRL itself
        assertThat(retained).isLessThan(der.length);
        assertThat(retained / ENTRIES).isLessThanOrEqualTo(33);
    }

    /**
     * The shipped heap limit: a JVM with {@code -Xmx256m} holds one such CRL and takes the next (a refresh). With
     * the CRL object, its bytes and a map of records kept, this ran out of memory.
     */
    @Test
    void aJvmWithTheShippedHeapTakesOneSuchCrlAfterAnother(@TempDir Path dir) throws Exception {
        Path caFile = Files.write(dir.resolve("ca.der"), CA.certificate().getEncoded());
        Path first = Files.write(dir.resolve("first.crl"), der);
        HandMadeCrl next = HandMadeCrl.of(CA, CLOCK.instant()).number(BigInteger.TWO);
        SERIALS.forEach(next::revoke);
        Path second = Files.write(dir.resolve("second.crl"), next.der());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                OfferCrlFiles.class.getName(), caFile.toString(), first.toString(), second.toString())
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(output).isZero();
        assertThat(output).doesNotContain("OutOfMemoryError");
        assertThat(output.lines().filter("Accepted"::equals).count()).as(output).isEqualTo(2);
    }

    @Test
    void everyListedSerialIsFoundWithItsReasonAndOthersAreNot() {
        CrlStore store = new CrlStore(List.of(CA.certificate()), CLOCK, Duration.ZERO);
        store.offer(der, "big");
        for (int i = 0; i < ENTRIES; i += 997) {
            assertThat(store.status(CA.leaf("CN=x").serial(SERIALS.get(i)).build().certificate()))
                    .isInstanceOfSatisfying(RevocationStatus.Revoked.class,
                            r -> assertThat(r.reason()).contains(CRLReason.KEY_COMPROMISE));
        }
        assertThat(store.status(CA.leaf("CN=y").serial(BigInteger.valueOf(12345)).build().certificate()))
                .isEqualTo(RevocationStatus.GOOD);
    }
}
