package dev.certknock.server.trust;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.crl.CrlUpdate;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import dev.certknock.server.crl.CaKey;
import dev.certknock.server.grant.CertRef;
import org.junit.jupiter.api.Test;

/**
 * The validation cache of {@link ChainValidator}, observed through its results: a cache hit returns the
 * very {@link ChainResult.Valid} object of the first validation, a miss validates again and returns a
 * new one. The generation is a real {@link CrlStore}'s, as in the server.
 */
class ChainValidatorTest {

    private static final CertknockGrants SSH = CertknockGrants.of(PortGrant.parse("tcp/22"))
            .withMaxOpenSeconds(300).withServers(List.of(ServerFixture.SERVER_NAME));

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-11-22T10:00:00Z"));
    private final TestCa ca = TestCa.root("CN=chain validator test CA", clock);
    private final CrlStore crls = new CrlStore(List.of(ca.certificate()), clock, Duration.ZERO);

    private ChainValidator validator(int cacheSize) {
        return new ChainValidator(new TrustStore(List.of(ca.certificate()), List.of()), crls::generation, cacheSize);
    }

    private IssuedCertificate client(String cn) {
        return ServerFixture.client(ca, cn, SSH).build();
    }

    private static byte[] fingerprint(IssuedCertificate c) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(c.encoded());
    }

    private ChainResult.Valid valid(ChainValidator v, IssuedCertificate c, Instant at) throws Exception {
        ChainResult r = v.validate(c.chain(), fingerprint(c), at);
        assertThat(r).as("%s at %s", c.certificate().getSubjectX500Principal(), at).isInstanceOf(ChainResult.Valid.class);
        return (ChainResult.Valid) r;
    }

    @Test
    void eachCertificateOfThePathIsNamedAsItsIssuersCrlNamesIt() throws Exception {
        TestCa intermediate = ca.intermediate("CN=chain validator issuing CA").build();
        IssuedCertificate carol = ServerFixture.client(intermediate, "carol", SSH).build();
        ChainResult.Valid below = valid(validator(10), carol, clock.instant());
        assertThat(below.path()).containsExactly(carol.certificate(), intermediate.certificate());
        // the CRL listener names a revoked certificate by the key of the CA that signed the CRL and the serial
        assertThat(below.refs()).containsExactly(
                new CertRef(CaKey.of(intermediate.certificate()).keyId(), carol.certificate().getSerialNumber()),
                new CertRef(CaKey.of(ca.certificate()).keyId(), intermediate.certificate().getSerialNumber()));

        IssuedCertificate alice = client("alice");
        assertThat(valid(validator(10), alice, clock.instant()).refs())
                .containsExactly(new CertRef(CaKey.of(ca.certificate()).keyId(), alice.certificate().getSerialNumber()));

        // a CA with the same name and another key issues other references, even for the same serial
        TestCa twin = TestCa.root("CN=chain validator test CA", clock);
        assertThat(CaKey.of(twin.certificate()).keyId()).isNotEqualTo(CaKey.of(ca.certificate()).keyId());
    }

    @Test
    void aSecondValidationOfTheSameLeafIsACacheHit() throws Exception {
        ChainValidator v = validator(10);
        IssuedCertificate alice = client("alice");
        ChainResult.Valid first = valid(v, alice, clock.instant());
        assertThat(first.path()).containsExactly(alice.certificate());
        assertThat(first.grants()).isEqualTo(SSH);
        assertThat(valid(v, alice, clock.instant().plusSeconds(60))).isSameAs(first);
        // Another leaf is not served from alice's entry.
        IssuedCertificate bob = client("bob");
        ChainResult.Valid forBob = valid(v, bob, clock.instant());
        assertThat(forBob).isNotSameAs(first);
        assertThat(forBob.path()).containsExactly(bob.certificate());
    }

    @Test
    void theCacheIsKeyedByTheLeafFingerprintAloneAndKeepsItsOwnCopyOfIt() throws Exception {
        ChainValidator v = validator(10);
        IssuedCertificate alice = client("alice");
        byte[] key = fingerprint(alice);
        ChainResult.Valid first = (ChainResult.Valid) v.validate(alice.chain(), key, clock.instant());
        java.util.Arrays.fill(key, (byte) 0); // the caller's array changing does not change the entry
        assertThat(v.validate(alice.chain(), fingerprint(alice), clock.instant())).isSameAs(first);

        // What the cache trusts: the fingerprint given. A chain that would not validate, presented with
        // alice's fingerprint, gets alice's cached result; the pipeline computes the fingerprint from the
        // presented leaf, so the two always belong together there.
        IssuedCertificate stranger = ServerFixture.client(TestCa.root("CN=other CA", clock), "mallory", SSH).build();
        assertThat(v.validate(stranger.chain(), fingerprint(stranger), clock.instant()))
                .isInstanceOfSatisfying(ChainResult.Invalid.class,
                        i -> assertThat(i.reason()).isEqualTo(DropReason.UNTRUSTED_CHAIN));
        assertThat(v.validate(stranger.chain(), fingerprint(alice), clock.instant())).isSameAs(first);
    }

    @Test
    void aNewCrlGenerationIsAMissAndTheNewResultIsCachedForIt() throws Exception {
        ChainValidator v = validator(10);
        IssuedCertificate alice = client("alice");
        ChainResult.Valid first = valid(v, alice, clock.instant());
        long before = crls.generation();
        assertThat(crls.offer(ca.crl().number(5).build().getEncoded(), "test")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(crls.generation()).isGreaterThan(before);

        ChainResult.Valid second = valid(v, alice, clock.instant());
        assertThat(second).isNotSameAs(first);
        assertThat(second.path()).isEqualTo(first.path());
        assertThat(valid(v, alice, clock.instant())).isSameAs(second);

        // A CRL that is refused (a rollback) leaves the generation, and so the cache, alone.
        assertThat(crls.offer(ca.crl().number(4).build().getEncoded(), "old")).isInstanceOf(CrlUpdate.Rejected.class);
        assertThat(crls.generation()).isEqualTo(before + 1);
        assertThat(valid(v, alice, clock.instant())).isSameAs(second);
    }

    @Test
    void anInstantOutsideTheCachedPathsValidityIsAMissAndIsValidatedAgain() throws Exception {
        ChainValidator v = validator(10);
        Instant now = clock.instant();
        IssuedCertificate alice = ServerFixture.client(ca, "alice", SSH)
                .validity(now.minus(Duration.ofHours(1)), now.plus(Duration.ofHours(1))).build();
        Instant notBefore = alice.certificate().getNotBefore().toInstant();
        Instant notAfter = alice.certificate().getNotAfter().toInstant();
        ChainResult.Valid first = valid(v, alice, now);
        assertThat(first.notBefore()).isEqualTo(notBefore);
        assertThat(first.notAfter()).isEqualTo(notAfter);

        // Both ends are inclusive, as in X.509.
        assertThat(valid(v, alice, notAfter)).isSameAs(first);
        assertThat(valid(v, alice, notBefore)).isSameAs(first);
        assertThat(v.validate(alice.chain(), fingerprint(alice), notAfter.plusMillis(1)))
                .isInstanceOfSatisfying(ChainResult.Invalid.class,
                        i -> assertThat(i.reason()).isEqualTo(DropReason.CERTIFICATE_EXPIRED));
        assertThat(v.validate(alice.chain(), fingerprint(alice), notBefore.minusMillis(1)))
                .isInstanceOfSatisfying(ChainResult.Invalid.class,
                        i -> assertThat(i.reason()).isEqualTo(DropReason.CERTIFICATE_NOT_YET_VALID));
        // The failures did not evict the valid entry: inside its validity it is still a hit.
        assertThat(valid(v, alice, now)).isSameAs(first);
    }

    @Test
    void theCachedValidityIsThatOfTheWholePathNotOnlyTheLeaf() throws Exception {
        ChainValidator v = validator(10);
        Instant now = clock.instant();
        TestCa shortLived = ca.intermediate("CN=short-lived intermediate")
                .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofHours(2))).build();
        IssuedCertificate carol = ServerFixture.client(shortLived, "carol", SSH)
                .validity(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30))).build();
        Instant intermediateNotAfter = shortLived.certificate().getNotAfter().toInstant();
        ChainResult.Valid first = valid(v, carol, now);
        assertThat(first.path()).containsExactly(carol.certificate(), shortLived.certificate());
        assertThat(first.notAfter()).isEqualTo(intermediateNotAfter);
        assertThat(first.notBefore()).isEqualTo(carol.certificate().getNotBefore().toInstant());

        assertThat(valid(v, carol, intermediateNotAfter)).isSameAs(first);
        assertThat(v.validate(carol.chain(), fingerprint(carol), intermediateNotAfter.plusSeconds(1)))
                .isInstanceOfSatisfying(ChainResult.Invalid.class,
                        i -> assertThat(i.reason()).isEqualTo(DropReason.CERTIFICATE_EXPIRED));
    }

    @Test
    void theCacheHoldsAtMostItsSizeAndEvictsTheLeastRecentlyUsed() throws Exception {
        ChainValidator v = validator(2);
        IssuedCertificate a = client("a");
        IssuedCertificate b = client("b");
        IssuedCertificate c = client("c");
        Instant now = clock.instant();
        ChainResult.Valid forA = valid(v, a, now);
        ChainResult.Valid forB = valid(v, b, now);
        assertThat(valid(v, a, now)).isSameAs(forA); // a is now the most recently used
        ChainResult.Valid forC = valid(v, c, now); // evicts b, the least recently used
        assertThat(valid(v, a, now)).isSameAs(forA);
        assertThat(valid(v, c, now)).isSameAs(forC);
        ChainResult.Valid forBAgain = valid(v, b, now);
        assertThat(forBAgain).as("b was evicted").isNotSameAs(forB);
        // Putting b back evicted a (c was used after a).
        assertThat(valid(v, c, now)).isSameAs(forC);
        assertThat(valid(v, a, now)).isNotSameAs(forA);
    }

    @Test
    void invalidateDropsEveryEntry() throws Exception {
        ChainValidator v = validator(10);
        IssuedCertificate a = client("a");
        IssuedCertificate b = client("b");
        Instant now = clock.instant();
        ChainResult.Valid forA = valid(v, a, now);
        ChainResult.Valid forB = valid(v, b, now);
        v.invalidate();
        ChainResult.Valid forAAgain = valid(v, a, now);
        assertThat(forAAgain).isNotSameAs(forA);
        assertThat(valid(v, b, now)).isNotSameAs(forB);
        assertThat(valid(v, a, now)).as("cached again after invalidate").isSameAs(forAAgain);
    }

    // The failure cache. Chain validation of an unauthenticated knock is the expensive step before the
    // signature check; the same failing chain sent again must not cost it again, for a short time.

    private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(-123_000_000_000L);

    private ChainValidator validatorWithTicker(int cacheSize, TrustStore trust) {
        return new ChainValidator(trust, crls::generation, cacheSize, nanos::get);
    }

    private ChainValidator validatorWithTicker(int cacheSize) {
        return validatorWithTicker(cacheSize, new TrustStore(List.of(ca.certificate()), List.of()));
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private IssuedCertificate untrusted() {
        return ServerFixture.client(TestCa.root("CN=untrusted CA", clock), "mallory", SSH).build();
    }

    @Test
    void aFailingChainValidatedTwiceIsValidatedOnceAndTheFailureExpires() throws Exception {
        ChainValidator v = validatorWithTicker(10);
        IssuedCertificate mallory = untrusted();
        ChainResult first = v.validate(mallory.chain(), fingerprint(mallory), clock.instant());
        assertThat(first).isInstanceOfSatisfying(ChainResult.Invalid.class,
                i -> assertThat(i.reason()).isEqualTo(DropReason.UNTRUSTED_CHAIN));
        assertThat(v.pathValidations()).isEqualTo(1);

        advance(ChainValidator.FAILURE_TTL.minusNanos(1));
        assertThat(v.validate(mallory.chain(), fingerprint(mallory), clock.instant())).isSameAs(first);
        assertThat(v.pathValidations()).as("the second was answered from the failure cache").isEqualTo(1);

        advance(Duration.ofNanos(1)); // the failure has lived FAILURE_TTL: it expired
        ChainResult again = v.validate(mallory.chain(), fingerprint(mallory), clock.instant());
        assertThat(again).isNotSameAs(first).isInstanceOf(ChainResult.Invalid.class);
        assertThat(v.pathValidations()).isEqualTo(2);
        assertThat(v.validate(mallory.chain(), fingerprint(mallory), clock.instant())).isSameAs(again);
        assertThat(v.pathValidations()).isEqualTo(2);
    }

    @Test
    void aCachedFailureIsDroppedWhenTheCrlsOrTheTrustAnchorsChange() throws Exception {
        ChainValidator v = validatorWithTicker(10);
        IssuedCertificate mallory = untrusted();
        v.validate(mallory.chain(), fingerprint(mallory), clock.instant());
        assertThat(crls.offer(ca.crl().number(7).build().getEncoded(), "test")).isInstanceOf(CrlUpdate.Accepted.class);
        v.validate(mallory.chain(), fingerprint(mallory), clock.instant());
        assertThat(v.pathValidations()).as("a new CRL generation").isEqualTo(2);
        v.validate(mallory.chain(), fingerprint(mallory), clock.instant());
        assertThat(v.pathValidations()).isEqualTo(2);
        v.invalidate();
        assertThat(v.cachedFailures()).isZero();
        v.validate(mallory.chain(), fingerprint(mallory), clock.instant());
        assertThat(v.pathValidations()).as("after invalidate").isEqualTo(3);
    }

    @Test
    void aFailureOfTheLeafPresentedWithoutItsIntermediateDoesNotFailTheLeafWithIt() throws Exception {
        // The server does not hold the intermediate: the client sends it. Someone who has the client's
        // certificate sends it alone; that fails, and must not be the answer for the client's own chain.
        ChainValidator v = validatorWithTicker(10);
        TestCa issuing = ca.intermediate("CN=issuing CA").build();
        IssuedCertificate dave = ServerFixture.client(issuing, "dave", SSH).build();
        assertThat(v.validate(List.of(dave.certificate()), fingerprint(dave), clock.instant()))
                .isInstanceOf(ChainResult.Invalid.class);
        assertThat(v.validate(dave.chain(), fingerprint(dave), clock.instant())).isInstanceOf(ChainResult.Valid.class);
        assertThat(v.pathValidations()).isEqualTo(2);
    }

    @Test
    void theFailureCacheIsBoundedAndFailuresNeverEvictValidChains() throws Exception {
        ChainValidator v = validatorWithTicker(2);
        IssuedCertificate alice = client("alice");
        ChainResult.Valid forAlice = valid(v, alice, clock.instant());
        IssuedCertificate m1 = untrusted();
        IssuedCertificate m2 = untrusted();
        IssuedCertificate m3 = untrusted();
        for (IssuedCertificate m : List.of(m1, m2, m3)) {
            v.validate(m.chain(), fingerprint(m), clock.instant());
        }
        assertThat(v.cachedFailures()).isEqualTo(2);
        assertThat(v.pathValidations()).isEqualTo(4);
        v.validate(m1.chain(), fingerprint(m1), clock.instant()); // evicted, the least recently used
        assertThat(v.pathValidations()).isEqualTo(5);
        assertThat(valid(v, alice, clock.instant())).isSameAs(forAlice);
        assertThat(v.pathValidations()).isEqualTo(5);
    }
}
