package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrlCacheTest {

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-03-01T12:00:00Z"));
    private final TestCa ca = TestCa.root("CN=cache test CA", clock);
    private final TestCa other = TestCa.root("CN=untrusted CA", clock);
    private final IssuedCertificate alice = ca.leaf("CN=alice").build();

    @TempDir
    Path dir;

    private CrlStore newStore() {
        return new CrlStore(List.of(ca.certificate()), clock, Duration.ZERO);
    }

    /** The CRL as the store accepts it (what the refresher saves). */
    private CrlUpdate.Accepted accepted(X509CRL crl) throws Exception {
        return accepted(crl, ca);
    }

    private CrlUpdate.Accepted accepted(X509CRL crl, TestCa... trusted) throws Exception {
        CrlStore scratch = new CrlStore(java.util.Arrays.stream(trusted).map(TestCa::certificate).toList(), clock,
                Duration.ZERO);
        return (CrlUpdate.Accepted) scratch.offer(crl.getEncoded(), "test");
    }

    private CaKey key() {
        return CaKey.of(ca.certificate());
    }

    @Test
    void aSavedCrlIsLoadedByTheNextStart() throws Exception {
        X509CRL crl = ca.crl().number(4).revoke(alice.certificate()).build();
        CrlCache cache = new CrlCache(dir.resolve("crl-cache"), 1 << 20);
        Path file = cache.save(accepted(crl));
        assertThat(file).isEqualTo(cache.fileFor(key())).hasBinaryContent(crl.getEncoded());

        CrlStore restarted = newStore();
        assertThat(new CrlCache(dir.resolve("crl-cache"), 1 << 20).loadInto(restarted)).isEqualTo(1);
        assertThat(restarted.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(restarted.info(crl.getIssuerX500Principal()).orElseThrow().origin()).startsWith("cache ");
    }

    @Test
    void aNewerSaveReplacesTheFileOfTheSameIssuer() throws Exception {
        CrlCache cache = new CrlCache(dir, 1 << 20);
        cache.save(accepted(ca.crl().number(1).build()));
        X509CRL second = ca.crl().number(2).revoke(alice.certificate()).build();
        cache.save(accepted(second));
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(cache.fileFor(key()));
        }
        assertThat(cache.fileFor(key())).hasBinaryContent(second.getEncoded());
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws Exception {
        X509CRL first = ca.crl().number(1).build();
        new CrlCache(dir, 1 << 20).save(accepted(first));
        CrlCache failing = new CrlCache(dir, 1 << 20, temporary -> {
            assertThat(temporary).exists().hasParent(dir);
            throw new IOException("disk full (injected)");
        });

        assertThatThrownBy(() -> failing.save(accepted(ca.crl().number(2).revoke(alice.certificate()).build())))
                .isInstanceOf(IOException.class).hasMessageContaining("injected");

        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(failing.fileFor(key()));
        }
        assertThat(failing.fileFor(key())).hasBinaryContent(first.getEncoded());
        CrlStore store = newStore();
        failing.loadInto(store);
        assertThat(store.info(first.getIssuerX500Principal()).orElseThrow().crlNumber()).isEqualTo(1);
    }

    @Test
    void corruptRefusedOversizedAndLeftoverFilesAreSkippedNeverFatal() throws Exception {
        CrlCache cache = new CrlCache(dir, 4096);
        X509CRL good = ca.crl().number(3).revoke(alice.certificate()).build();
        cache.save(accepted(good));
        byte[] der = good.getEncoded();
        Files.write(dir.resolve("garbage.crl"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("truncated.crl"), Arrays.copyOf(der, der.length / 2));
        Files.write(dir.resolve("untrusted.crl"), other.crl().build().getEncoded());
        // an issuingDistributionPoint that is an INTEGER made Bouncy Castle throw and stopped the whole load
        // (several, so that whatever order the directory lists them in, some come before the good one)
        byte[] malformedIdp = HandMadeCrl.of(ca, clock.instant()).number(BigInteger.TEN)
                .extension(Extension.issuingDistributionPoint, true, new ASN1Integer(1)).der();
        for (int i = 0; i < 16; i++) {
            Files.write(dir.resolve("malformed-idp-" + i + ".crl"), malformedIdp);
        }
        Files.write(dir.resolve("huge.crl"), new byte[4097]);
        Files.createDirectory(dir.resolve("a-directory.crl"));
        Files.write(dir.resolve("README"), new byte[] {0});
        Path leftover = dir.resolve(".crl-123.tmp");
        Files.write(leftover, new byte[] {9});
        Path atomicFileLeftover = dir.resolve(".0a1b-2c3d.crl.4567.tmp");
        Files.write(atomicFileLeftover, new byte[] {9});

        CrlStore store = newStore();
        assertThat(cache.loadInto(store)).isEqualTo(1);
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(leftover).doesNotExist();
        assertThat(atomicFileLeftover).doesNotExist();
        assertThat(dir.resolve("README")).exists();
    }

    @Test
    void anOlderCachedCrlDoesNotRollBackWhatTheStoreHolds() throws Exception {
        CrlCache cache = new CrlCache(dir, 1 << 20);
        cache.save(accepted(ca.crl().number(4).build()));
        CrlStore store = newStore();
        store.offer(ca.crl().number(5).revoke(alice.certificate()).build().getEncoded(), "http://ca/crl");
        assertThat(cache.loadInto(store)).isZero();
        assertThat(store.info(ca.certificate().getSubjectX500Principal()).orElseThrow().crlNumber()).isEqualTo(5);
    }

    @Test
    void twoCasOfTheSameNameHaveTwoFilesAndBothComeBack() throws Exception {
        TestCa renewed = TestCa.root("CN=cache test CA", clock); // a new root that keeps the old name
        IssuedCertificate carol = renewed.leaf("CN=carol").build();
        CrlCache cache = new CrlCache(dir, 1 << 20);
        Path first = cache.save(accepted(ca.crl().number(7).revoke(alice.certificate()).build(), ca, renewed));
        Path second = cache.save(accepted(renewed.crl().number(2).revoke(carol.certificate()).build(), ca, renewed));
        assertThat(first).isNotEqualTo(second);
        assertThat(second).isEqualTo(cache.fileFor(CaKey.of(renewed.certificate())));

        CrlStore restarted = new CrlStore(List.of(ca.certificate(), renewed.certificate()), clock, Duration.ZERO);
        assertThat(cache.loadInto(restarted)).isEqualTo(2);
        assertThat(restarted.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(restarted.status(carol.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
    }

    @Test
    void aFileOfThePerNameLayoutIsLoadedSavedPerKeyAndRemoved() throws Exception {
        byte[] der = ca.crl().number(3).revoke(alice.certificate()).build().getEncoded();
        Path legacy = dir.resolve("0123456789abcdef0123456789abcdef.crl");
        Files.write(legacy, der);
        CrlCache cache = new CrlCache(dir, 1 << 20);
        CrlStore store = newStore();
        assertThat(cache.loadInto(store)).isEqualTo(1);
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(legacy).doesNotExist();
        assertThat(cache.fileFor(key())).hasBinaryContent(der);
        // an older legacy file beside a newer per-key file: the newer one stays in force, the legacy file goes
        Files.write(legacy, ca.crl().number(1).build().getEncoded());
        CrlStore again = newStore();
        cache.loadInto(again);
        assertThat(again.info(ca.certificate().getSubjectX500Principal()).orElseThrow().crlNumber()).isEqualTo(3);
        assertThat(legacy).doesNotExist();
        assertThat(cache.fileFor(key())).hasBinaryContent(der);
    }

    @Test
    void aMissingDirectoryLoadsNothing() {
        assertThat(new CrlCache(dir.resolve("not-there"), 1024).loadInto(newStore())).isZero();
    }
}
