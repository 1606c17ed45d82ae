package dev.certknock.server.trust;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A CA's grants extension bounds the client certificates below it (docs/GRANT-EXTENSION.md): every CA of the validated
 * path, trust anchor included, is checked; a leaf outside is refused with {@link DropReason#GRANT_OUTSIDE_CA_BOUND} and
 * a detail naming the CA and what crosses; maxOpenSeconds is capped along the path; the result is cached with the path.
 */
class CaBoundTest {

    /** The database team: tcp/5432 on *.db.example.test from 10.20.0.0/16, at most 10 minutes. */
    static final CertknockGrants DB_TEAM = CertknockGrants.of(PortGrant.parse("tcp/5432"))
            .withMaxOpenSeconds(600).withServers(List.of("*.db.example.test"))
            .withSources(List.of(SourcePrefix.parse("10.20.0.0/16")));

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-11-22T10:00:00Z"));
    private final TestCa root = TestCa.root("CN=security root", clock);
    private final TestCa dbCa = root.intermediate("CN=database team CA").pathLength(0)
            .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(DB_TEAM)).build();
    private final CrlStore crls = new CrlStore(List.of(root.certificate()), clock, Duration.ZERO);
    private final AtomicLong nanos = new AtomicLong();

    private ChainValidator validator(TestCa anchor) {
        return new ChainValidator(new TrustStore(List.of(anchor.certificate()), List.of()), crls::generation, 10, nanos::get);
    }

    private static ChainResult validate(ChainValidator v, IssuedCertificate c, Instant now) throws Exception {
        return v.validate(c.chain(), MessageDigest.getInstance("SHA-256").digest(c.encoded()), now);
    }

    private ChainResult validate(IssuedCertificate c) throws Exception {
        return validate(validator(root), c, clock.instant());
    }

    static CertknockGrants grants(String grant, List<String> servers, List<String> sources) {
        return CertknockGrants.of(PortGrant.parse(grant)).withServers(servers)
                .withSources(sources.stream().map(SourcePrefix::parse).toList());
    }

    private static void assertOutside(ChainResult r, String... details) {
        assertThat(r).isInstanceOfSatisfying(ChainResult.Invalid.class, i -> {
            assertThat(i.reason()).isEqualTo(DropReason.GRANT_OUTSIDE_CA_BOUND);
            assertThat(i.detail()).contains(details);
        });
    }

    private static final String DB_CA = "outside the bound of CA 1 above the client certificate ('CN=database team CA'): ";

    @Test
    void aLeafInsideTheBoundIsValidAndItsOpeningsAreCappedAtTheBound() throws Exception {
        CertknockGrants inside = grants("tcp/5432", List.of("pg1.db.example.test"), List.of("10.20.3.0/24"))
                .withMaxOpenSeconds(3600);
        ChainResult r = validate(ServerFixture.client(dbCa, "alice", inside).build());
        assertThat(r).isInstanceOfSatisfying(ChainResult.Valid.class, v -> {
            assertThat(v.grants()).as("the leaf's grants as they are").isEqualTo(inside);
            assertThat(v.caMaxOpenSeconds()).hasValue(600);
        });
    }

    @Test
    void eachKindOfOutsideIsRefusedWithTheCaAndWhatCrosses() throws Exception {
        assertOutside(validate(ServerFixture.client(dbCa, "m1",
                grants("tcp/22", List.of("pg1.db.example.test"), List.of("10.20.0.0/16"))).build()),
                DB_CA + "grant tcp/22 is outside the bound's grants tcp/5432");
        assertOutside(validate(ServerFixture.client(dbCa, "m2",
                grants("tcp/5432", List.of("web.example.test"), List.of("10.20.0.0/16"))).build()),
                DB_CA + "server web.example.test is not covered by the bound's servers *.db.example.test");
        assertOutside(validate(ServerFixture.client(dbCa, "m3",
                grants("tcp/5432", List.of(), List.of("10.20.0.0/16"))).build()),
                DB_CA + "no servers listed (any server) but the bound allows only servers *.db.example.test");
        assertOutside(validate(ServerFixture.client(dbCa, "m4",
                grants("tcp/5432", List.of("pg1.db.example.test"), List.of("10.0.0.0/8"))).build()),
                DB_CA + "source 10.0.0.0/8 is not inside the bound's sources 10.20.0.0/16");
        assertOutside(validate(ServerFixture.client(dbCa, "m5",
                grants("tcp/5432", List.of("pg1.db.example.test"), List.of())).build()),
                DB_CA + "no sources listed (any source) but the bound allows only sources 10.20.0.0/16");
        assertOutside(validate(ServerFixture.client(dbCa, "m6",
                grants("udp/5432", List.of("web.example.test"), List.of("2001:db8::/32"))).build()),
                DB_CA + "grant udp/5432 is outside", "; server web.example.test is not covered",
                "; source 2001:db8::/32 is not inside");
    }

    @Test
    void theTrustAnchorsBoundHoldsTooAndTheLeastMaxOpenSecondsAlongThePathWins() throws Exception {
        CertknockGrants rootBound = CertknockGrants.of(PortGrant.parse("tcp/5000-5999"), PortGrant.parse("tcp/22"))
                .withMaxOpenSeconds(300);
        TestCa boundedRoot = TestCa.rootBuilder("CN=bounded root", clock)
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(rootBound)).build();
        CertknockGrants wide = CertknockGrants.of(PortGrant.parse("tcp/1-65535")).withMaxOpenSeconds(3600);
        TestCa sub = boundedRoot.intermediate("CN=wide sub CA")
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), true, GrantsExtension.encode(wide)).build();
        ChainValidator v = validator(boundedRoot);
        ChainResult ok = validate(v, ServerFixture.client(sub, "alice", CertknockGrants.of(PortGrant.parse("tcp/5432"))).build(),
                clock.instant());
        assertThat(ok).isInstanceOfSatisfying(ChainResult.Valid.class, r -> assertThat(r.caMaxOpenSeconds()).hasValue(300));
        // Inside the sub CA's (critical) bound, outside the root's: the root is named.
        assertOutside(validate(v, ServerFixture.client(sub, "mallory", CertknockGrants.of(PortGrant.parse("tcp/8080"))).build(),
                clock.instant()), "outside the bound of CA 2 above the client certificate ('CN=bounded root'): "
                + "grant tcp/8080 is outside the bound's grants tcp/5000-5999, tcp/22");
        // A leaf directly below the bounded anchor.
        assertOutside(validate(v, ServerFixture.client(boundedRoot, "eve", CertknockGrants.of(PortGrant.parse("udp/53"))).build(),
                clock.instant()), "CA 1 above the client certificate ('CN=bounded root')");
    }

    @Test
    void aPathWithoutBoundsConstrainsNothingAndCapsNothing() throws Exception {
        TestCa plain = root.intermediate("CN=plain CA").build();
        ChainResult r = validate(ServerFixture.client(plain, "alice", CertknockGrants.of(PortGrant.parse("tcp/1-65535"))).build());
        assertThat(r).isInstanceOfSatisfying(ChainResult.Valid.class, v -> assertThat(v.caMaxOpenSeconds()).isEmpty());
    }

    @Test
    void aCaBoundThatCannotBeReadFailsClosed() throws Exception {
        byte[] malformed = {0x30, 0x03, 0x30, 0x01, 0x00};
        TestCa badRoot = TestCa.rootBuilder("CN=bad bound root", clock)
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, malformed).build();
        assertOutside(validate(validator(badRoot), ServerFixture.client(badRoot, "alice",
                CertknockGrants.of(PortGrant.parse("tcp/22"))).build(), clock.instant()),
                "CA 1 above the client certificate ('CN=bad bound root') has a grants extension that cannot be read");
        // On an intermediate the PKIX checker refuses it first: the path does not validate at all.
        TestCa badSub = root.intermediate("CN=bad bound sub")
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, malformed).build();
        assertThat(validate(ServerFixture.client(badSub, "bob", CertknockGrants.of(PortGrant.parse("tcp/22"))).build()))
                .isInstanceOfSatisfying(ChainResult.Invalid.class,
                        i -> assertThat(i.reason()).isEqualTo(DropReason.UNTRUSTED_CHAIN));
    }

    @Test
    void theCheckRunsOncePerValidatedPathAndNoCacheLetsALeafSkipIt() throws Exception {
        ChainValidator v = validator(root);
        IssuedCertificate alice = ServerFixture.client(dbCa, "alice",
                grants("tcp/5432", List.of("pg1.db.example.test"), List.of("10.20.0.0/16"))).build();
        ChainResult.Valid first = (ChainResult.Valid) validate(v, alice, clock.instant());
        ChainResult.Valid again = (ChainResult.Valid) validate(v, alice, clock.instant().plusSeconds(60));
        assertThat(again).isSameAs(first);
        assertThat(again.caMaxOpenSeconds()).hasValue(600);
        assertThat(v.pathValidations()).isEqualTo(1);

        IssuedCertificate mallory = ServerFixture.client(dbCa, "mallory",
                grants("tcp/22", List.of("pg1.db.example.test"), List.of("10.20.0.0/16"))).build();
        for (int i = 0; i < 3; i++) {
            assertOutside(validate(v, mallory, clock.instant()), "grant tcp/22 is outside");
        }
        assertThat(v.pathValidations()).as("the refusal is remembered like any failed path").isEqualTo(2);
        nanos.addAndGet(ChainValidator.FAILURE_TTL.toNanos());
        assertOutside(validate(v, mallory, clock.instant()), "grant tcp/22 is outside");
        assertThat(v.pathValidations()).as("and checked again once forgotten").isEqualTo(3);
    }
}
