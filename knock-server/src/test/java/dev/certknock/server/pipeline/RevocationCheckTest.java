package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.Verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.CrlUpdate;
import dev.certknock.server.crl.RejectionReason;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Revocation of a path whose intermediate the client sends and the server does not hold
 * ({@code trust.intermediates} empty): the documented path, that holding intermediates only saves clients
 * sending them, works.
 */
class RevocationCheckTest {

    private static final CertknockGrants SSH = CertknockGrants.of(PortGrant.parse("tcp/22"))
            .withMaxOpenSeconds(300).withServers(List.of(ServerFixture.SERVER_NAME));

    @Test
    void aClientSendingAnIntermediateTheServerDoesNotHoldGetsInAndItsRevocationsApply() throws Exception {
        ServerFixture f = new ServerFixture();
        TestCa intermediate = f.ca.intermediate("CN=certknock sent intermediate").build();
        IssuedCertificate carol = ServerFixture.client(intermediate, "carol", SSH).build();
        IssuedCertificate dave = ServerFixture.client(intermediate, "dave", SSH).build();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        // fetched before any knock showed the intermediate: not accepted yet, kept
        CrlUpdate update = h.crls.offer(PipelineHarness.encoded(intermediate.crl().number(1).revoke(dave.certificate())
                .build()), "http://ca.test/intermediate.crl");
        assertThat(update).isInstanceOfSatisfying(CrlUpdate.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectionReason.UNKNOWN_ISSUER));
        assertThat(carol.chain()).containsExactly(carol.certificate(), intermediate.certificate());

        assertThat(h.process(f.knock(carol, ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
        assertThat(h.process(f.knock(dave, ServerFixture.ssh(60)))).isInstanceOfSatisfying(Verdict.Dropped.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.REVOKED));
        // and its later CRLs are accepted as they come
        assertThat(h.crls.offer(PipelineHarness.encoded(intermediate.crl().number(2).revoke(carol.certificate()).build()),
                "http://ca.test/intermediate.crl")).isInstanceOf(CrlUpdate.Accepted.class);
        assertThat(h.process(f.knock(carol, ServerFixture.ssh(60)))).isInstanceOfSatisfying(Verdict.Dropped.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.REVOKED));
    }

    @Test
    void withoutTheIntermediatesCrlTheKnockFailsClosed() throws Exception {
        ServerFixture f = new ServerFixture();
        TestCa intermediate = f.ca.intermediate("CN=certknock sent intermediate").build();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        assertThat(h.process(f.knock(ServerFixture.client(intermediate, "carol", SSH).build(), ServerFixture.ssh(60))))
                .isInstanceOfSatisfying(Verdict.Dropped.class,
                        d -> assertThat(d.reason()).isEqualTo(DropReason.REVOCATION_UNAVAILABLE));
    }
}
