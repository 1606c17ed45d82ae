package dev.certknock.server.crl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.CRLReason;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;

class CrlStoreTest {

    private static final Duration GRACE = Duration.ofHours(1);

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-03-01T12:00:00Z"));
    private final TestCa ca = TestCa.root("CN=certknock test CA,O=certknock", clock);
    private final TestCa other = TestCa.root("CN=some other CA", clock);
    private final IssuedCertificate alice = ca.leaf("CN=alice").build();
    private final IssuedCertificate bob = ca.leaf("CN=bob").build();
    private final CrlStore store = new CrlStore(List.of(ca.certificate()), clock, GRACE);

    private static byte[] der(X509CRL crl) throws Exception {
        return crl.getEncoded();
    }

    private CrlUpdate.Rejected rejected(byte[] crl) {
        CrlUpdate update = store.offer(crl, "test");
        assertThat(update).isInstanceOf(CrlUpdate.Rejected.class);
        return (CrlUpdate.Rejected) update;
    }

    @Test
    void acceptsAGoodCrlAndReportsRevokedAndGood() throws Exception {
        CrlUpdate update = store.offer(der(ca.crl().revoke(alice.certificate()).number(7).build()), "http://ca/crl");

        assertThat(update).isInstanceOfSatisfying(CrlUpdate.Accepted.class, a -> {
            assertThat(a.crlNumber()).isEqualTo(7);
            assertThat(a.newlyRevokedSerials()).containsExactly(alice.certificate().getSerialNumber());
            assertThat(a.issuer()).isEqualTo(ca.certificate().getSubjectX500Principal());
        });
        assertThat(store.status(alice.certificate())).isInstanceOfSatisfying(RevocationStatus.Revoked.class, r -> {
            assertThat(r.reason()).contains(CRLReason.KEY_COMPROMISE);
            assertThat(r.revocationDate()).isBefore(clock.instant());
        });
        assertThat(store.status(bob.certificate())).isEqualTo(RevocationStatus.GOOD);
        assertThat(store.generation()).isEqualTo(1);
        CrlInfo info = store.info(ca.certificate().getSubjectX500Principal()).orElseThrow();
        assertThat(info.crlNumber()).isEqualTo(7);
        assertThat(info.entries()).isEqualTo(1);
        assertThat(info.origin()).isEqualTo("http://ca/crl");
        assertThat(info.staleAfter()).isEqualTo(info.nextUpdate().plus(GRACE));
        assertThat(store.infos()).containsExactly(info);
    }

    @Test
    void theSameBytesAgainAreUnchangedAndDoNotBumpTheGeneration() throws Exception {
        byte[] crl = der(ca.crl().number(3).build());
        assertThat(store.offer(crl, "a")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(store.offer(crl, "b")).isEqualTo(new CrlUpdate.Unchanged(ca.certificate().getSubjectX500Principal(),
                BigInteger.valueOf(3)));
        assertThat(store.generation()).isEqualTo(1);
        assertThat(store.info(ca.certificate().getSubjectX500Principal()).orElseThrow().origin()).isEqualTo("a");
    }

    @Test
    void rejectsACrlSignedByAnotherKeyUnderTheTrustedName() throws Exception {
        CrlUpdate.Rejected r = rejected(der(ca.crl().revoke(alice.certificate()).signedBy(other).build()));
        assertThat(r.reason()).isEqualTo(RejectionReason.BAD_SIGNATURE);
        assertThat(store.status(alice.certificate()))
                .isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        assertThat(store.generation()).isZero();
    }

    @Test
    void rejectsATamperedCrl() throws Exception {
        byte[] crl = der(ca.crl().revoke(alice.certificate()).build());
        byte[] serial = alice.certificate().getSerialNumber().toByteArray();
        int at = indexOf(crl, serial);
        assertThat(at).isPositive();
        crl[at + serial.length - 1] ^= 1; // another serial: the signature no longer covers it
        assertThat(rejected(crl).reason()).isEqualTo(RejectionReason.BAD_SIGNATURE);
    }

    @Test
    void rejectsACrlOfAnUntrustedIssuer() throws Exception {
        CrlUpdate.Rejected r = rejected(der(other.crl().build()));
        assertThat(r.reason()).isEqualTo(RejectionReason.UNKNOWN_ISSUER);
        assertThat(r.message()).contains("CN=some other CA");
    }

    @Test
    void rejectsACrlOfATrustedCaWithoutCrlSignKeyUsage() throws Exception {
        TestCa noCrlSign = TestCa.rootBuilder("CN=no crl sign", clock).keyUsage(KeyUsage.keyCertSign).build();
        CrlStore s = new CrlStore(List.of(noCrlSign.certificate()), clock, GRACE);
        CrlUpdate update = s.offer(der(noCrlSign.crl().build()), "test");
        assertThat(update).isInstanceOfSatisfying(CrlUpdate.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectionReason.UNKNOWN_ISSUER));
    }

    @Test
    void thisUpdateInTheFutureIsRejectedBeyondTheAllowedSkew() throws Exception {
        Instant now = clock.instant();
        CrlUpdate.Rejected r = rejected(der(ca.crl().thisUpdate(now.plus(Duration.ofMinutes(6)))
                .nextUpdate(now.plus(Duration.ofDays(1))).build()));
        assertThat(r.reason()).isEqualTo(RejectionReason.THIS_UPDATE_IN_FUTURE);
        assertThat(store.offer(der(ca.crl().thisUpdate(now.plus(Duration.ofMinutes(4)))
                .nextUpdate(now.plus(Duration.ofDays(1))).build()), "test")).isInstanceOf(CrlUpdate.Accepted.class);
    }

    @Test
    void aLowerCrlNumberIsARollbackAndTheHeldCrlStays() throws Exception {
        assertThat(store.offer(der(ca.crl().number(5).revoke(alice.certificate()).build()), "test"))
                .isInstanceOf(CrlUpdate.Accepted.class);
        CrlUpdate.Rejected r = rejected(der(ca.crl().number(4).build()));
        assertThat(r.reason()).isEqualTo(RejectionReason.ROLLBACK);
        assertThat(r.message()).contains("4").contains("5");
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(store.info(ca.certificate().getSubjectX500Principal()).orElseThrow().crlNumber()).isEqualTo(5);
        assertThat(store.generation()).isEqualTo(1);
    }

    @Test
    void theSameNumberReplacesOnlyWhenThisUpdateIsNewer() throws Exception {
        Instant now = clock.instant();
        store.offer(der(ca.crl().number(9).thisUpdate(now.minusSeconds(600)).build()), "first");
        CrlUpdate older = store.offer(der(ca.crl().number(9).thisUpdate(now.minusSeconds(900)).build()), "older");
        assertThat(older).isInstanceOf(CrlUpdate.Unchanged.class);
        CrlUpdate reissued = store.offer(der(ca.crl().number(9).thisUpdate(now.minusSeconds(60))
                .revoke(bob.certificate()).build()), "reissued");
        assertThat(reissued).isInstanceOfSatisfying(CrlUpdate.Accepted.class,
                a -> assertThat(a.newlyRevokedSerials()).containsExactly(bob.certificate().getSerialNumber()));
        assertThat(store.generation()).isEqualTo(2);
    }

    @Test
    void aCrlWithoutNumberOrNextUpdateIsRejected() throws Exception {
        assertThat(rejected(HandMadeCrl.of(ca, clock.instant()).number(null).der()).reason())
                .isEqualTo(RejectionReason.MISSING_CRL_NUMBER);
        assertThat(rejected(der(ca.crl().withoutNextUpdate().build())).reason())
                .isEqualTo(RejectionReason.MISSING_NEXT_UPDATE);
        assertThat(rejected(HandMadeCrl.of(ca, clock.instant()).number(BigInteger.valueOf(-1)).der()).reason())
                .isEqualTo(RejectionReason.UNPARSEABLE);
        assertThat(rejected(HandMadeCrl.of(ca, clock.instant()).nextUpdate(clock.instant().minusSeconds(3600)).der())
                .reason()).isEqualTo(RejectionReason.UNPARSEABLE);
    }

    @Test
    void garbageIsUnparseable() throws Exception {
        byte[] good = der(ca.crl().build());
        List<byte[]> garbage = new ArrayList<>();
        garbage.add(new byte[0]);
        garbage.add("hello".getBytes(StandardCharsets.US_ASCII));
        garbage.add(new byte[] {0x30, (byte) 0x84, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        garbage.add(Arrays.copyOf(good, good.length + 1)); // trailing byte
        garbage.add(Arrays.copyOf(good, good.length - 1)); // truncated
        garbage.add(("-----BEGIN X509 CRL-----\n" + Base64.getMimeEncoder().encodeToString(good)
                + "\n-----END X509 CRL-----\n").getBytes(StandardCharsets.US_ASCII)); // PEM is the fetcher's job
        garbage.add(alice.encoded()); // a certificate, not a CRL
        for (byte[] g : garbage) {
            assertThat(rejected(g).reason()).as("garbage %s", Arrays.toString(Arrays.copyOf(g, Math.min(8, g.length))))
                    .isEqualTo(RejectionReason.UNPARSEABLE);
        }
        assertThat(store.generation()).isZero();
    }

    @Test
    void aMalformedIssuingDistributionPointIsUnparseableNotAnException() throws Exception {
        Instant now = clock.instant();
        byte[] good = der(ca.crl().number(1).revoke(alice.certificate()).build());
        assertThat(store.offer(good, "test")).isInstanceOf(CrlUpdate.Accepted.class);
        List<byte[]> malformed = new ArrayList<>();
        for (boolean critical : new boolean[] {true, false}) {
            for (TestCa signer : List.of(ca, other)) { // signed by the CA, and by an unrelated key
                malformed.add(HandMadeCrl.of(ca, now).number(BigInteger.TWO).signedBy(signer)
                        .extension(Extension.issuingDistributionPoint, critical, new ASN1Integer(5)).der());
                malformed.add(HandMadeCrl.of(ca, now).number(BigInteger.TWO).signedBy(signer)
                        .extension(Extension.issuingDistributionPoint, critical, new DEROctetString(new byte[] {1, 2})).der());
            }
        }
        for (byte[] crl : malformed) {
            CrlUpdate.Rejected r = rejected(crl);
            assertThat(r.reason()).isEqualTo(RejectionReason.UNPARSEABLE);
            assertThat(r.message()).isNotBlank();
        }
        // the CRL held stays in force
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(store.generation()).isEqualTo(1);
    }

    @Test
    void malformedTimesAndEntriesAreUnparseableNotAnException() throws Exception {
        Instant now = clock.instant();
        // an authority key identifier that is not a SEQUENCE, a CRL number that is not an INTEGER
        List<byte[]> malformed = List.of(
                HandMadeCrl.of(ca, now).extension(Extension.authorityKeyIdentifier, false, new ASN1Integer(7)).der(),
                HandMadeCrl.of(ca, now).number(null).extension(Extension.cRLNumber, false, new DEROctetString(new byte[] {1})).der());
        for (byte[] crl : malformed) {
            assertThat(rejected(crl).reason()).isEqualTo(RejectionReason.UNPARSEABLE);
        }
    }

    @Test
    void newlyRevokedSerialsAreTheDifferenceToTheHeldCrl() throws Exception {
        CrlUpdate first = store.offer(der(ca.crl().number(1).revoke(alice.certificate()).build()), "test");
        CrlUpdate second = store.offer(der(ca.crl().number(2).revoke(alice.certificate()).revoke(bob.certificate())
                .build()), "test");
        CrlUpdate third = store.offer(der(ca.crl().number(3).revoke(bob.certificate()).build()), "test");

        assertThat(((CrlUpdate.Accepted) first).newlyRevokedSerials()).containsExactly(alice.certificate().getSerialNumber());
        assertThat(((CrlUpdate.Accepted) second).newlyRevokedSerials()).containsExactly(bob.certificate().getSerialNumber());
        assertThat(((CrlUpdate.Accepted) third).newlyRevokedSerials()).isEmpty();
        assertThat(store.generation()).isEqualTo(3);
        // the CA took alice off (e.g. a lifted certificateHold): the newest CRL is what counts
        assertThat(store.status(alice.certificate())).isEqualTo(RevocationStatus.GOOD);
        assertThat(store.status(bob.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
    }

    @Test
    void statusIsNoCrlForAnIssuerWithoutCrlAndStaleAfterNextUpdatePlusGrace() throws Exception {
        IssuedCertificate stranger = other.leaf("CN=stranger").build();
        Instant nextUpdate = clock.instant().plus(Duration.ofHours(2));
        store.offer(der(ca.crl().revoke(alice.certificate()).nextUpdate(nextUpdate).build()), "test");

        assertThat(store.status(stranger.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        clock.set(nextUpdate.plus(GRACE));
        assertThat(store.status(bob.certificate())).isEqualTo(RevocationStatus.GOOD);
        clock.advance(Duration.ofMillis(1));
        assertThat(store.status(bob.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.STALE));
        // a revocation stays a revocation however old the CRL
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
    }

    @Test
    void anExpiredCrlIsAcceptedAsTheBestInformationButReportedStale() throws Exception {
        Instant now = clock.instant();
        CrlUpdate update = store.offer(der(ca.crl().number(2).revoke(alice.certificate())
                .thisUpdate(now.minus(Duration.ofDays(3))).nextUpdate(now.minus(Duration.ofDays(1))).build()), "test");
        assertThat(update).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(store.status(bob.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.STALE));
        assertThat(store.checkFreshness()).containsExactly(ca.certificate().getSubjectX500Principal());
    }

    @Test
    void listenersHearAcceptedRejectedAndFreshnessChangesOncePerChange() throws Exception {
        List<String> events = new ArrayList<>();
        store.addListener(new CrlListener() {
            @Override
            public void crlAccepted(CaKey issuer, BigInteger crlNumber, Set<BigInteger> newlyRevokedSerials) {
                events.add("accepted " + crlNumber + " " + newlyRevokedSerials);
            }

            @Override
            public void crlRejected(String origin, RejectionReason reason, String message) {
                events.add("rejected " + origin + " " + reason);
            }

            @Override
            public void freshnessChanged(X500Principal issuer, boolean fresh) {
                events.add("fresh " + fresh);
            }
        });
        store.addListener(new CrlListener() { // a broken listener does not disturb the store or the others
            @Override
            public void crlAccepted(CaKey issuer, BigInteger crlNumber, Set<BigInteger> newlyRevokedSerials) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void crlRejected(String origin, RejectionReason reason, String message) {
                throw new IllegalStateException("boom");
            }
        });

        store.checkFreshness();
        store.checkFreshness();
        Instant nextUpdate = clock.instant().plus(Duration.ofHours(1));
        store.offer(der(ca.crl().number(1).revoke(alice.certificate()).nextUpdate(nextUpdate).build()), "test");
        store.offer(der(other.crl().build()), "http://x/other.crl");
        store.checkFreshness();
        store.checkFreshness();
        clock.set(nextUpdate.plus(GRACE).plusSeconds(1));
        assertThat(store.checkFreshness()).containsExactly(ca.certificate().getSubjectX500Principal());
        store.checkFreshness();
        clock.set(nextUpdate.plus(GRACE).plusSeconds(2));
        store.offer(der(ca.crl().number(2).revoke(alice.certificate()).build()), "test");
        assertThat(store.checkFreshness()).isEmpty();

        assertThat(events).containsExactly(
                "fresh false", // no CRL for the trusted issuer at the first check
                "accepted 1 [" + alice.certificate().getSerialNumber() + "]",
                "rejected http://x/other.crl UNKNOWN_ISSUER",
                "fresh true",
                "fresh false",
                "accepted 2 []",
                "fresh true");
    }

    @Test
    void twoCasOfTheSameNameEachKeepTheirOwnCrlAndNeitherIsARollbackOfTheOther() throws Exception {
        TestCa oldKey = TestCa.root("CN=rolled over CA", clock);
        TestCa newKey = TestCa.root("CN=rolled over CA", clock); // a new root that keeps the old name
        IssuedCertificate dave = oldKey.leaf("CN=dave").build();
        IssuedCertificate carol = newKey.leaf("CN=carol").build();
        CrlStore s = new CrlStore(List.of(oldKey.certificate(), newKey.certificate()), clock, GRACE);

        assertThat(s.offer(der(oldKey.crl().number(7).build()), "old")).isInstanceOf(CrlUpdate.Accepted.class);
        // a lower number than the other CA's CRL: not a rollback, since it is another CA key's CRL
        assertThat(s.offer(der(newKey.crl().number(2).revoke(carol.certificate()).build()), "new"))
                .isInstanceOfSatisfying(CrlUpdate.Accepted.class,
                        a -> assertThat(a.caKey()).isEqualTo(CaKey.of(newKey.certificate())));
        assertThat(s.status(carol.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(s.status(carol.certificate(), newKey.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(s.status(dave.certificate())).isEqualTo(RevocationStatus.GOOD);
        assertThat(s.status(dave.certificate(), oldKey.certificate())).isEqualTo(RevocationStatus.GOOD);
        // and a newer CRL of the first CA does not replace the second's
        assertThat(s.offer(der(oldKey.crl().number(8).build()), "old")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(s.status(carol.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(s.infos()).extracting(CrlInfo::caKey).containsExactlyInAnyOrder(
                CaKey.of(oldKey.certificate()), CaKey.of(newKey.certificate()));
        assertThat(s.info(CaKey.of(newKey.certificate())).orElseThrow().crlNumber()).isEqualTo(2);
        // each CA's own rollback is still one
        assertThat(s.offer(der(newKey.crl().number(1).build()), "new")).isInstanceOfSatisfying(CrlUpdate.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectionReason.ROLLBACK));

        TestCa impostor = TestCa.root("CN=rolled over CA", clock);
        assertThat(s.offer(der(impostor.crl().number(30).build()), "test")).isInstanceOfSatisfying(CrlUpdate.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectionReason.BAD_SIGNATURE));
        IssuedCertificate mallory = impostor.leaf("CN=mallory").build();
        assertThat(s.status(mallory.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
    }

    @Test
    void withoutTheOtherCasCrlACertificateOfTheSameNameIsUnavailableNotGood() throws Exception {
        TestCa oldKey = TestCa.root("CN=rolled over CA", clock);
        TestCa newKey = TestCa.root("CN=rolled over CA", clock);
        IssuedCertificate carol = newKey.leaf("CN=carol").build();
        CrlStore s = new CrlStore(List.of(oldKey.certificate(), newKey.certificate()), clock, GRACE);
        assertThat(s.offer(der(oldKey.crl().number(1).build()), "old")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(s.status(carol.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        assertThat(s.checkFreshness()).containsExactly(newKey.certificate().getSubjectX500Principal());
    }

    @Test
    void anIntermediateLearnedFromAValidatedPathHasItsKeptCrlAcceptedAndItsLaterOnes() throws Exception {
        TestCa intermediate = ca.intermediate("CN=sent intermediate").build();
        IssuedCertificate carol = intermediate.leaf("CN=carol").build();
        IssuedCertificate dave = intermediate.leaf("CN=dave").build();
        assertThat(rejected(der(intermediate.crl().number(1).revoke(dave.certificate()).build())).reason())
                .isEqualTo(RejectionReason.UNKNOWN_ISSUER);
        assertThat(store.status(dave.certificate(), intermediate.certificate()))
                .isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));

        store.learnIntermediates(List.of(carol.certificate(), intermediate.certificate()));
        assertThat(store.status(dave.certificate(), intermediate.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(store.status(carol.certificate(), intermediate.certificate())).isEqualTo(RevocationStatus.GOOD);
        assertThat(store.status(carol.certificate())).isEqualTo(RevocationStatus.GOOD);
        assertThat(store.trustedKeys()).contains(CaKey.of(intermediate.certificate()));
        assertThat(store.offer(der(intermediate.crl().number(2).build()), "test")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(store.status(dave.certificate(), intermediate.certificate())).isEqualTo(RevocationStatus.GOOD);
        // a leaf is never learned as a CA
        store.learnIntermediates(List.of(alice.certificate(), bob.certificate()));
        assertThat(store.trustedKeys()).doesNotContain(CaKey.of(bob.certificate()));
    }

    @Test
    void crlsOfUnknownIssuersAreKeptBounded() throws Exception {
        List<TestCa> intermediates = new ArrayList<>();
        for (int i = 0; i <= CrlStore.MAX_PENDING; i++) {
            TestCa intermediate = ca.intermediate("CN=sent intermediate " + i).build();
            intermediates.add(intermediate);
            rejected(der(intermediate.crl().build()));
        }
        TestCa first = intermediates.get(0);
        TestCa last = intermediates.get(CrlStore.MAX_PENDING);
        IssuedCertificate underFirst = first.leaf("CN=a").build();
        IssuedCertificate underLast = last.leaf("CN=b").build();
        store.learnIntermediates(List.of(underFirst.certificate(), first.certificate()));
        store.learnIntermediates(List.of(underLast.certificate(), last.certificate()));
        // the oldest was dropped to keep the bound; the newest is there
        assertThat(store.status(underFirst.certificate(), first.certificate()))
                .isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        assertThat(store.status(underLast.certificate(), last.certificate())).isEqualTo(RevocationStatus.GOOD);
    }

    @Test
    void crlKindsWeDoNotEvaluateAreUnsupported() throws Exception {
        Instant now = clock.instant();
        List<byte[]> unsupported = List.of(
                HandMadeCrl.of(ca, now).extension(Extension.deltaCRLIndicator, true, new ASN1Integer(1)).der(),
                HandMadeCrl.of(ca, now).extension(Extension.issuingDistributionPoint, true, // attribute certificates only
                        new IssuingDistributionPoint(null, false, true)).der(),
                HandMadeCrl.of(ca, now).extension(Extension.issuingDistributionPoint, true, // CA certificates only
                        new IssuingDistributionPoint(null, false, true, null, false, false)).der(),
                HandMadeCrl.of(ca, now).extension(Extension.issuingDistributionPoint, true, // some reasons only
                        new IssuingDistributionPoint(null, false, false,
                                new org.bouncycastle.asn1.x509.ReasonFlags(
                                        org.bouncycastle.asn1.x509.ReasonFlags.keyCompromise), false, false)).der(),
                HandMadeCrl.of(ca, now).extension(Extension.issuingDistributionPoint, true,
                        new IssuingDistributionPoint(null, false, false, null, true, false)).der(), // indirect
                HandMadeCrl.of(ca, now).extension(new ASN1ObjectIdentifier("1.2.3.4.5"), true, new ASN1Integer(1)).der(),
                HandMadeCrl.of(ca, now).entryWithCriticalExtension(BigInteger.TEN, Extension.certificateIssuer).der());
        for (byte[] crl : unsupported) {
            assertThat(rejected(crl).reason()).isEqualTo(RejectionReason.UNSUPPORTED);
        }
        // an unknown non-critical extension is fine
        assertThat(store.offer(HandMadeCrl.of(ca, now).extension(new ASN1ObjectIdentifier("1.2.3.4.5"), false,
                new ASN1Integer(1)).der(), "test")).isInstanceOf(CrlUpdate.Accepted.class);
    }

    private static IssuingDistributionPoint partition(String url) {
        return new IssuingDistributionPoint(new DistributionPointName(new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, url))), false, false, null, false, false);
    }

    @Test
    void aCrlOfOneDistributionPointPartitionIsRefusedSoItsSilenceDoesNotMakeOtherPartitionsGood() throws Exception {
        // alice's certificate belongs to partition 2; the CRL of partition 1 does not list her, and must not be
        // taken as the CA's complete CRL
        byte[] partition1 = HandMadeCrl.of(ca, clock.instant()).revoke(bob.certificate().getSerialNumber())
                .extension(Extension.issuingDistributionPoint, true, partition("http://ca.test/crl/part1.crl")).der();
        CrlUpdate.Rejected r = rejected(partition1);
        assertThat(r.reason()).isEqualTo(RejectionReason.UNSUPPORTED);
        assertThat(r.message()).contains("distribution point").contains("complete CRL");
        assertThat(store.status(alice.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        assertThat(store.generation()).isZero();
    }

    @Test
    void aPartitionCrlDoesNotReplaceTheCompleteCrlHeld() throws Exception {
        assertThat(store.offer(der(ca.crl().number(1).revoke(alice.certificate()).build()), "full"))
                .isInstanceOf(CrlUpdate.Accepted.class);
        byte[] partition = HandMadeCrl.of(ca, clock.instant()).number(BigInteger.TWO)
                .extension(Extension.issuingDistributionPoint, true, partition("http://ca.test/crl/part2.crl")).der();
        assertThat(rejected(partition).reason()).isEqualTo(RejectionReason.UNSUPPORTED);
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(store.info(ca.certificate().getSubjectX500Principal()).orElseThrow().crlNumber()).isEqualTo(1);
    }

    @Test
    void aCrlOfUserCertificatesOnlyIsRefusedSinceIntermediatesAreCheckedToo() throws Exception {
        byte[] crl = HandMadeCrl.of(ca, clock.instant()).extension(Extension.issuingDistributionPoint, true,
                new IssuingDistributionPoint(null, true, false, null, false, false)).der();
        CrlUpdate.Rejected r = rejected(crl);
        assertThat(r.reason()).isEqualTo(RejectionReason.UNSUPPORTED);
        assertThat(r.message()).contains("onlyContainsUserCerts");
        assertThat(store.status(alice.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
    }

    @Test
    void anEmptyIssuingDistributionPointCoversEverythingAndIsAccepted() throws Exception {
        byte[] crl = HandMadeCrl.of(ca, clock.instant()).revoke(alice.certificate().getSerialNumber())
                .extension(Extension.issuingDistributionPoint, true,
                        new IssuingDistributionPoint(null, false, false, null, false, false)).der();
        assertThat(store.offer(crl, "test")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(store.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(store.status(bob.certificate())).isEqualTo(RevocationStatus.GOOD);
    }

    @Test
    void eachIssuerHasItsOwnCrl() throws Exception {
        TestCa second = TestCa.root("CN=second CA", clock);
        IssuedCertificate carol = second.leaf("CN=carol").serial(alice.certificate().getSerialNumber()).build();
        CrlStore s = new CrlStore(List.of(ca.certificate(), second.certificate()), clock, GRACE);
        s.offer(der(ca.crl().revoke(alice.certificate()).build()), "test");
        assertThat(s.status(carol.certificate())).isEqualTo(new RevocationStatus.Unavailable(UnavailableReason.NO_CRL));
        s.offer(der(second.crl().build()), "test");
        assertThat(s.status(carol.certificate())).isEqualTo(RevocationStatus.GOOD);
        assertThat(s.status(alice.certificate())).isInstanceOf(RevocationStatus.Revoked.class);
        assertThat(s.infos()).hasSize(2);
        assertThat(s.info(new X500Principal("CN=nobody"))).isEqualTo(Optional.empty());
    }

    @Test
    void lookUpsDuringUpdatesSeeOneWholeCrlOrTheNext() throws Exception {
        List<byte[]> crls = new ArrayList<>();
        for (int n = 1; n <= 20; n++) {
            // odd CRLs revoke alice, even ones do not
            crls.add(der(n % 2 == 1 ? ca.crl().number(n).revoke(alice.certificate()).build() : ca.crl().number(n).build()));
        }
        store.offer(crls.get(0), "test");
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<String> problem = new java.util.concurrent.atomic.AtomicReference<>();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread reader = new Thread(() -> {
                long lastGeneration = 0;
                while (!done.get()) {
                    long generation = store.generation();
                    if (generation < lastGeneration) {
                        problem.set("generation went back from " + lastGeneration + " to " + generation);
                    }
                    lastGeneration = generation;
                    RevocationStatus a = store.status(alice.certificate());
                    if (!(a instanceof RevocationStatus.Revoked) && a != RevocationStatus.GOOD) {
                        problem.set("unexpected status " + a);
                    }
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (byte[] crl : crls.subList(1, crls.size())) {
            assertThat(store.offer(crl, "test")).isInstanceOf(CrlUpdate.Accepted.class);
        }
        done.set(true);
        for (Thread reader : readers) {
            reader.join(5_000);
        }
        assertThat(problem.get()).isNull();
        assertThat(store.generation()).isEqualTo(20);
        assertThat(store.status(alice.certificate())).isEqualTo(RevocationStatus.GOOD);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
