package dev.certknock.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantRevokedException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

class GrantIssueTest {

    /** A firewall that refuses every grant with the given exception. */
    static Firewall refusing(FirewallException e) {
        return new Firewall() {
            @Override
            public void open(GrantDecision decision) throws FirewallException {
                throw e;
            }

            @Override
            public int closeCertificate(X500Principal issuer, BigInteger serial) {
                return 0;
            }

            @Override
            public List<GrantDecision> active(Instant now) {
                return List.of();
            }

            @Override
            public void close() {
            }
        };
    }

    static KnockContext context() throws Exception {
        KnockContext ctx = new KnockContext(ReceivedDatagram.of(new byte[] {1},
                new InetSocketAddress("198.51.100.7", 40000), Instant.EPOCH), Instant.EPOCH);
        ctx.decision = new GrantDecision(InetAddress.getByName("198.51.100.7"),
                List.of(dev.certknock.protocol.grant.PortGrant.parse("tcp/22")), Duration.ofSeconds(60), Instant.EPOCH,
                new X500Principal("CN=alice"), new X500Principal("CN=CA"), BigInteger.TEN);
        return ctx;
    }

    @Test
    void aCertificateRevokedWhileItsKnockWasInThePipelineIsDroppedAsRevoked() throws Exception {
        Outcome o = new GrantIssue(refusing(new GrantRevokedException("serial a was revoked"))).apply(context());
        assertThat(o).isInstanceOfSatisfying(Outcome.Drop.class, d -> assertThat(d.reason()).isEqualTo(DropReason.REVOKED));
    }

    @Test
    void anyOtherRefusalIsAFirewallFailure() throws Exception {
        Outcome o = new GrantIssue(refusing(new FirewallException("nft failed", null))).apply(context());
        assertThat(o).isInstanceOfSatisfying(Outcome.Drop.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.FIREWALL_FAILED));
    }
}
