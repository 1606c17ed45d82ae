package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.Verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.SealedKnock;
import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.IssuedCertificate;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Knock v2 against the attack it answers (issue "a captured knock can be raced from another address"): whoever
 * sees a knock may send the copy first, from their own address, before the real one arrives. And the other side
 * of it: a client behind NAT, which knows only its private address, still gets in, with no address typed by hand,
 * because an authenticated knock is answered with the address the server saw, sealed for its sender alone.
 */
class AddressBindingTest {

    private static final InetSocketAddress ALICE = PipelineHarness.SOURCE;
    private static final InetSocketAddress MALLORY = new InetSocketAddress("203.0.113.66", 5555);

    private final ServerFixture f = new ServerFixture();

    private PipelineHarness harness(String yaml) throws Exception {
        return new PipelineHarness(f, yaml).withCrl(f.ca.crl().build());
    }

    @Test
    void aCapturedKnockRacedFromAnotherAddressOpensNothingThereAndTheSendersCopyStillOpens() throws Exception {
        PipelineHarness h = harness("");
        IssuedCertificate alice = f.client("alice").build();
        SealedKnock knock = f.sealed(alice, ServerFixture.ssh(60).withDeclaredIpv4(ServerFixture.SOURCE_ADDRESS));
        byte[] copy = knock.datagram();

        // Mallory's copy arrives first, from Mallory's address: nothing opens, for anyone.
        Verdict raced = h.process(copy, MALLORY);
        assertThat(raced).isInstanceOfSatisfying(Verdict.Dropped.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.ADDRESS_NOT_SIGNED));
        assertThat(h.firewall.active(f.clock.instant())).isEmpty();
        // Mallory is answered (the copy is authentic), but only Alice's knock can read the answer.
        assertThat(h.sentReplies).singleElement().satisfies(r -> {
            assertThat(r.to()).isEqualTo(MALLORY);
            assertThat(r.datagram().length).isLessThan(copy.length);
            assertThat(knock.openReply(r.datagram(), 0, r.datagram().length))
                    .contains(new KnockReply.AddressNotSigned(f.clock.millis(), MALLORY));
            SealedKnock another = f.sealed(alice, ServerFixture.ssh(60).withDeclaredIpv4(ServerFixture.SOURCE_ADDRESS));
            assertThat(another.openReply(r.datagram(), 0, r.datagram().length)).isEmpty();
        });
        // Sending the copy again from there gets nothing more, and costs the server no public-key work: it is a
        // replay from that address, dropped at the look-up before chain validation and signature.
        for (int i = 0; i < 3; i++) {
            assertThat(h.process(copy, MALLORY)).isInstanceOfSatisfying(Verdict.Dropped.class, d -> {
                assertThat(d.reason()).isEqualTo(DropReason.REPLAY);
                assertThat(d.stage()).isEqualTo("ReplayLookup");
            });
        }
        assertThat(h.sentReplies).hasSize(1);

        // Alice's own copy, from the address it signs, still opens: the raced copy did not use it up.
        Verdict real = h.process(copy, ALICE);
        assertThat(real).isInstanceOfSatisfying(Verdict.Accepted.class,
                a -> assertThat(a.decision().address()).isEqualTo(ALICE.getAddress()));
        assertThat(h.firewall.active(f.clock.instant())).singleElement()
                .satisfies(g -> assertThat(g.address()).isEqualTo(ALICE.getAddress()));
        assertThat(h.sentReplies).hasSize(2);
        byte[] opened = h.sentReplies.get(1).datagram();
        assertThat(h.sentReplies.get(1).to()).isEqualTo(ALICE);
        assertThat(knock.openReply(opened, 0, opened.length))
                .contains(new KnockReply.Opened(f.clock.millis(), ALICE, 60));

        // Once used, every further copy is a replay, from anywhere, and is not answered.
        assertThat(h.process(copy, ALICE)).isInstanceOfSatisfying(Verdict.Dropped.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.REPLAY));
        assertThat(h.process(copy, new InetSocketAddress("203.0.113.67", 1))).isInstanceOfSatisfying(Verdict.Dropped.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.REPLAY));
        assertThat(h.sentReplies).hasSize(2);
    }

    @Test
    void aClientBehindNatLearnsItsAddressFromTheSealedReplyAndThenGetsIn() throws Exception {
        PipelineHarness h = harness("");
        IssuedCertificate bob = f.client("bob").build();
        // Bob knows only his private address; the NAT sends his knock from ALICE's public address and port.
        InetSocketAddress natMapping = new InetSocketAddress(ServerFixture.SOURCE_ADDRESS, 61_001);
        SealedKnock first = f.sealed(bob, ServerFixture.ssh(120).withDeclaredIpv4(ServerFixture.ipv4("192.168.1.20")));
        assertThat(h.process(first.datagram(), natMapping)).isInstanceOfSatisfying(Verdict.Dropped.class,
                d -> assertThat(d.reason()).isEqualTo(DropReason.ADDRESS_NOT_SIGNED));
        assertThat(h.firewall.active(f.clock.instant())).as("nothing opened for a private address").isEmpty();
        PipelineHarness.SentReply r = h.sentReplies.get(0);
        assertThat(r.to()).as("to the NAT's mapping, so that the NAT lets it back in").isEqualTo(natMapping);
        KnockReply reply = first.openReply(r.datagram(), 0, r.datagram().length).orElseThrow();
        assertThat(reply).isInstanceOf(KnockReply.AddressNotSigned.class);
        assertThat(reply.observedSource()).isEqualTo(natMapping);
        assertThat(reply.serverTimeMillis()).isEqualTo(f.clock.millis());

        f.clock.advance(Duration.ofMillis(40));
        SealedKnock second = f.sealed(bob, ServerFixture.ssh(120)
                .withDeclaredIpv4((java.net.Inet4Address) reply.observedSource().getAddress()));
        assertThat(h.process(second.datagram(), natMapping)).isInstanceOf(Verdict.Accepted.class);
        byte[] confirmation = h.sentReplies.get(1).datagram();
        assertThat(second.openReply(confirmation, 0, confirmation.length))
                .contains(new KnockReply.Opened(f.clock.millis(), natMapping, 120));
    }

    @Test
    void nothingButAnAuthenticatedKnockIsEverAnswered() throws Exception {
        PipelineHarness h = harness("");
        IssuedCertificate alice = f.client("alice").build();
        KnockRequest elsewhere = ServerFixture.ssh(60).withDeclaredIpv4(ServerFixture.ipv4("192.0.2.1"));
        byte[] good = f.knock(alice, elsewhere);
        // Broken in transit, or forged: every byte flipped in turn is either refused before the signature or fails it.
        for (int i = 0; i < good.length; i += 7) {
            byte[] t = good.clone();
            t[i] ^= 0x40;
            assertThat(h.process(t, MALLORY)).isInstanceOf(Verdict.Dropped.class);
        }
        // Refused before the signature is checked: revoked, unknown CA, outside the time window.
        IssuedCertificate revoked = f.client("carol").build();
        h.withCrl(f.ca.crl().number(2).revoke(revoked.certificate()).build());
        assertThat(h.process(f.knock(revoked, elsewhere), MALLORY)).isInstanceOf(Verdict.Dropped.class);
        byte[] stale = f.knock(alice, elsewhere);
        f.clock.advance(Duration.ofMinutes(5));
        assertThat(h.process(stale, MALLORY)).isInstanceOf(Verdict.Dropped.class);
        // Authentic, but refused for what it asks: not answered either (only the address is the server's to tell).
        assertThat(h.process(f.knock(alice, KnockRequest.of(60, List.of(PortGrant.parse("tcp/443")))
                .withDeclaredIpv4(ServerFixture.ipv4("192.0.2.1"))), MALLORY)).isInstanceOfSatisfying(Verdict.Dropped.class,
                        d -> assertThat(d.reason()).isEqualTo(DropReason.GRANT_NOT_IN_CERTIFICATE));
        assertThat(h.sentReplies).isEmpty();
        // The control: the same knock, fresh and authentic, is answered.
        assertThat(h.process(f.knock(alice, elsewhere), MALLORY)).isInstanceOf(Verdict.Dropped.class);
        assertThat(h.sentReplies).hasSize(1);
    }

    @Test
    void repliesAreBoundedServerWideAndAV1KnockIsNeverAnswered() throws Exception {
        PipelineHarness h = harness("knock:\n  repliesPerSecond: 1\n  acceptVersion1: true\n");
        for (int i = 0; i < 5; i++) {
            byte[] d = f.knock(f.client("user" + i).build(), ServerFixture.ssh(60).withDeclaredIpv4(ServerFixture.ipv4("192.0.2.1")));
            assertThat(h.process(d, MALLORY)).isInstanceOf(Verdict.Dropped.class);
        }
        assertThat(h.sentReplies).as("a burst of two at one a second").hasSize(2);
        assertThat(h.replies.figures()).containsEntry("sent", 2L).containsEntry("rateLimited", 3L);
        h.advance(Duration.ofSeconds(5));
        assertThat(h.process(f.knockV1(f.client("v1user").build(), ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
        assertThat(h.sentReplies).hasSize(2);
    }
}
