package dev.certknock.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockSigner;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.ServerPublicKey;
import dev.certknock.protocol.knock.SignatureScheme;
import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One case per drop reason, each built with the test PKI: dropped with its reason, no grant, and the
 * server still serves a valid knock afterwards.
 */
class KnockPipelineTest {

    private static final CertknockGrants SSH = CertknockGrants.of(PortGrant.parse("tcp/22"))
            .withMaxOpenSeconds(300).withServers(List.of(ServerFixture.SERVER_NAME));

    /** A case: given the fixture and harness, the datagram to send. */
    private record Case(String name, DropReason expected, Function<PipelineHarness, byte[]> datagram) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static byte[] knockBy(PipelineHarness h, IssuedCertificate client, KnockRequest request) {
        return h.f.knock(client, request);
    }

    private static byte[] clientWith(PipelineHarness h, CertknockGrants grants, KnockRequest request) {
        return knockBy(h, ServerFixture.client(h.f.ca, "alice", grants).build(), request);
    }

    static Stream<Arguments> cases() {
        KnockRequest ssh = ServerFixture.ssh(60);
        List<Case> cases = List.of(
                new Case("expired certificate", DropReason.CERTIFICATE_EXPIRED,
                        h -> knockBy(h, h.f.client("old").expired().build(), ssh)),
                new Case("not yet valid", DropReason.CERTIFICATE_NOT_YET_VALID,
                        h -> knockBy(h, h.f.client("young").notYetValid().build(), ssh)),
                new Case("wrong CA", DropReason.UNTRUSTED_CHAIN,
                        h -> knockBy(h, ServerFixture.client(TestCa.root("CN=other CA", h.f.clock), "mallory", SSH).build(), ssh)),
                new Case("intermediate without CA flag", DropReason.UNTRUSTED_CHAIN, h -> {
                    TestCa notCa = h.f.ca.intermediate("CN=not a CA").notACa().build();
                    return knockBy(h, ServerFixture.client(notCa, "eve", SSH).build(), ssh);
                }),
                new Case("missing EKU", DropReason.MISSING_CLIENT_EKU, h -> knockBy(h, h.f.ca.leaf("CN=no eku")
                        .extension(CertknockOids.GRANTS_EXTENSION.getId(), false,
                                dev.certknock.protocol.grant.GrantsExtension.encode(SSH)).build(), ssh)),
                new Case("server EKU instead of client EKU", DropReason.MISSING_CLIENT_EKU, h -> knockBy(h,
                        h.f.ca.leaf("CN=server eku").extendedKeyUsage(CertknockOids.KP_SERVER.getId())
                                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false,
                                        dev.certknock.protocol.grant.GrantsExtension.encode(SSH)).build(), ssh)),
                new Case("missing grant extension", DropReason.MISSING_GRANTS, h -> knockBy(h,
                        h.f.ca.leaf("CN=no grants").extendedKeyUsage(CertknockOids.KP_CLIENT.getId()).build(), ssh)),
                new Case("malformed grant extension", DropReason.MALFORMED_GRANTS, h -> knockBy(h,
                        h.f.ca.leaf("CN=bad grants").extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, new byte[] {0x30, 0x02, 0x30, 0x00})
                                .build(), ssh)),
                new Case("grant outside the certificate", DropReason.GRANT_NOT_IN_CERTIFICATE,
                        h -> clientWith(h, SSH, KnockRequest.of(60, List.of(PortGrant.parse("udp/8000"))))),
                new Case("grant outside the server's protected ports", DropReason.GRANT_NOT_PROTECTED,
                        h -> clientWith(h, CertknockGrants.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/443")),
                                KnockRequest.of(60, List.of(PortGrant.parse("tcp/443"))))),
                new Case("wrong server name", DropReason.WRONG_SERVER,
                        h -> clientWith(h, SSH.withServers(List.of("gw2.example.test")), ssh)),
                new Case("source outside sources", DropReason.SOURCE_NOT_ALLOWED,
                        h -> clientWith(h, SSH.withSources(List.of(SourcePrefix.parse("203.0.113.0/24"))), ssh)),
                new Case("timestamp too old", DropReason.TIMESTAMP_TOO_OLD, h -> {
                    h.f.clock.advance(Duration.ofSeconds(-31));
                    byte[] d = knockBy(h, h.f.client("late").build(), ssh);
                    h.f.clock.advance(Duration.ofSeconds(31));
                    return d;
                }),
                new Case("timestamp in the future", DropReason.TIMESTAMP_IN_FUTURE, h -> {
                    h.f.clock.advance(Duration.ofSeconds(31));
                    byte[] d = knockBy(h, h.f.client("early").build(), ssh);
                    h.f.clock.advance(Duration.ofSeconds(-31));
                    return d;
                }),
                new Case("signature by another key", DropReason.BAD_SIGNATURE, h -> {
                    IssuedCertificate alice = h.f.client("alice").build();
                    IssuedCertificate other = h.f.client("other").build();
                    return seal(h, new ClientCredential(signer(other), alice.chain()), ssh);
                }),
                new Case("garbage signature", DropReason.BAD_SIGNATURE, h -> {
                    KnockSigner junk = new KnockSigner() {
                        @Override
                        public SignatureScheme scheme() {
                            return SignatureScheme.ECDSA_P256_SHA256;
                        }

                        @Override
                        public byte[] sign(byte[] message) {
                            byte[] b = new byte[64];
                            new SecureRandom().nextBytes(b);
                            return b;
                        }
                    };
                    return seal(h, new ClientCredential(junk, h.f.client("alice").build().chain()), ssh);
                }),
                new Case("packet for another server key", DropReason.UNKNOWN_SERVER_KEY, h -> {
                    var otherServer = h.f.ca.leaf("CN=gw2").build();
                    return h.f.knock(h.f.client("alice").build(), ssh, ServerPublicKey.fromCertificate(otherServer.certificate()));
                }),
                new Case("truncated", DropReason.TRUNCATED, h -> java.util.Arrays.copyOf(
                        knockBy(h, h.f.client("alice").build(), ssh), 100)),
                new Case("truncated after the frame check", DropReason.DECRYPTION_FAILED, h -> {
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    return java.util.Arrays.copyOf(d, d.length - 1);
                }),
                new Case("oversized", DropReason.OVERSIZED, h -> new byte[1300]),
                new Case("unknown version", DropReason.UNSUPPORTED_VERSION, h -> {
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    d[0] = 2;
                    return d;
                }));
        return cases.stream().map(Arguments::of);
    }

    private static KnockSigner signer(IssuedCertificate c) {
        try {
            return KnockSigners.forPrivateKey(c.privateKey());
        } catch (java.security.InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] seal(PipelineHarness h, ClientCredential cred, KnockRequest request) {
        try {
            return new KnockSealer(cred, h.f.serverKey.publicKey(), h.f.clock, new SecureRandom()).seal(request).datagram();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertDroppedAndStillServing(PipelineHarness h, byte[] datagram, DropReason expected) {
        Verdict v = h.process(datagram);
        assertThat(v).isInstanceOfSatisfying(Verdict.Dropped.class, d -> assertThat(d.reason()).isEqualTo(expected));
        assertThat(h.firewall.active(h.f.clock.instant())).as("no grant").isEmpty();
        assertThat(h.counters.dropped(expected)).isEqualTo(1);
        Verdict next = h.process(h.f.knock(h.f.client("bob").build(), ServerFixture.ssh(60)));
        assertThat(next).as("still serving").isInstanceOf(Verdict.Accepted.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachBadKnockIsDroppedWithItsReason(Case c) throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        assertDroppedAndStillServing(h, c.datagram().apply(h), c.expected());
    }

    @Test
    void aValidKnockOpensExactlyWhatItAsksForForTheSource() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        IssuedCertificate alice = f.client("alice").build();
        Verdict v = h.process(f.knock(alice, KnockRequest.of(120, List.of(PortGrant.parse("tcp/22"),
                PortGrant.parse("udp/8000-8010")))));
        assertThat(v).isInstanceOfSatisfying(Verdict.Accepted.class, a -> {
            GrantDecision d = a.decision();
            assertThat(d.address()).isEqualTo(PipelineHarness.SOURCE.getAddress());
            assertThat(d.grants()).containsExactly(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8010"));
            assertThat(d.duration()).isEqualTo(Duration.ofSeconds(120));
            assertThat(d.serial()).isEqualTo(alice.certificate().getSerialNumber());
        });
        assertThat(h.firewall.active(f.clock.instant())).hasSize(1);
        assertThat(h.counters.accepted()).isEqualTo(1);
    }

    @Test
    void durationIsTheLeastOfRequestCertificateServerAndRemainingValidity() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f, "knock:\n  maxOpenSeconds: 200\n  defaultOpenSeconds: 45\n")
                .withCrl(f.ca.crl().build());
        Function<byte[], Duration> granted = d -> ((Verdict.Accepted) h.process(d)).decision().duration();
        // Certificate allows 300, server 200, request 250: 200.
        assertThat(granted.apply(f.knock(f.client("a").build(), ServerFixture.ssh(250)))).hasSeconds(200);
        // Request 30: 30.
        assertThat(granted.apply(f.knock(f.client("b").build(), ServerFixture.ssh(30)))).hasSeconds(30);
        // Certificate without maxOpenSeconds: the server default, 45.
        assertThat(granted.apply(f.knock(ServerFixture.client(f.ca, "c", CertknockGrants.of(PortGrant.parse("tcp/22")))
                .build(), ServerFixture.ssh(250)))).hasSeconds(45);
        // Certificate valid for 100 more seconds: 100.
        IssuedCertificate shortLived = f.client("d").validity(f.clock.instant().minusSeconds(60), f.clock.instant().plusSeconds(100))
                .build();
        assertThat(granted.apply(f.knock(shortLived, ServerFixture.ssh(250)))).hasSeconds(100);
    }

    @Test
    void revokedCertificatesAndCrlProblemsFailClosed() throws Exception {
        ServerFixture f = new ServerFixture();
        IssuedCertificate alice = f.client("alice").build();
        // No CRL at all: fail closed.
        PipelineHarness none = new PipelineHarness(f);
        assertThat(reason(none.process(f.knock(alice, ServerFixture.ssh(60))))).isEqualTo(DropReason.REVOCATION_UNAVAILABLE);
        // A CRL with a bad signature is refused, so still no CRL.
        assertThat(none.crls.offer(PipelineHarness.encoded(f.ca.crl().signedBy(TestCa.root("CN=forger", f.clock)).build()),
                "forged")).isInstanceOf(dev.certknock.server.crl.CrlUpdate.Rejected.class);
        assertThat(reason(none.process(f.knock(alice, ServerFixture.ssh(60))))).isEqualTo(DropReason.REVOCATION_UNAVAILABLE);

        // Revoked, and a rollback to an older CRL that did not list it does not help.
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().number(5).revoke(alice.certificate()).build());
        assertThat(reason(h.process(f.knock(alice, ServerFixture.ssh(60))))).isEqualTo(DropReason.REVOKED);
        assertThat(h.crls.offer(PipelineHarness.encoded(f.ca.crl().number(4).build()), "old"))
                .isInstanceOf(dev.certknock.server.crl.CrlUpdate.Rejected.class);
        assertThat(reason(h.process(f.knock(alice, ServerFixture.ssh(60))))).isEqualTo(DropReason.REVOKED);

        // Stale: past nextUpdate (one day) with no grace: fail closed.
        PipelineHarness stale = new PipelineHarness(f).withCrl(f.ca.crl().build());
        IssuedCertificate bob = f.client("bob").build();
        assertThat(stale.process(f.knock(bob, ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
        f.clock.advance(Duration.ofDays(2));
        assertThat(reason(stale.process(f.knock(bob, ServerFixture.ssh(60))))).isEqualTo(DropReason.REVOCATION_UNAVAILABLE);
    }

    @Test
    void theSamePacketTwiceIsAReplay() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        assertThat(h.process(d)).isInstanceOf(Verdict.Accepted.class);
        assertThat(reason(h.process(d))).isEqualTo(DropReason.REPLAY);
        assertThat(reason(h.process(d, new InetSocketAddress("203.0.113.9", 5555)))).isEqualTo(DropReason.REPLAY);
    }

    @Test
    void theSamePacketConcurrentlyIsAcceptedExactlyOnce() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Verdict>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return h.process(d);
                }));
            }
            start.countDown();
            int accepted = 0;
            for (Future<Verdict> r : results) {
                Verdict v = r.get(30, TimeUnit.SECONDS);
                if (v instanceof Verdict.Accepted) {
                    accepted++;
                } else {
                    assertThat(reason(v)).isEqualTo(DropReason.REPLAY);
                }
            }
            assertThat(accepted).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSourceOverItsRateIsDroppedBeforeAnyCryptography() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f, "limits:\n  perSourcePerSecond: 1\n  perSourceBurst: 2\n")
                .withCrl(f.ca.crl().build());
        // Junk that fails the frame check costs no token.
        for (int i = 0; i < 5; i++) {
            assertThat(reason(h.process(new byte[] {1, 1, 0}))).isEqualTo(DropReason.TRUNCATED);
        }
        IssuedCertificate alice = f.client("alice").build();
        List<DropReason> reasons = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Verdict v = h.process(f.knock(alice, ServerFixture.ssh(60)));
            reasons.add(v instanceof Verdict.Dropped d ? d.reason() : null);
        }
        assertThat(reasons).containsExactly(null, null, DropReason.SOURCE_RATE_LIMITED, DropReason.SOURCE_RATE_LIMITED);
        // Another /64 or /32 has its own budget; one second refills one token.
        assertThat(h.process(f.knock(alice, ServerFixture.ssh(60)), new InetSocketAddress("203.0.113.5", 1)))
                .isInstanceOf(Verdict.Accepted.class);
        f.clock.advance(Duration.ofSeconds(1));
        assertThat(h.process(f.knock(alice, ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
    }

    private static DropReason reason(Verdict v) {
        assertThat(v).isInstanceOf(Verdict.Dropped.class);
        return ((Verdict.Dropped) v).reason();
    }

    @Test
    void declaredAddressPolicies() throws Exception {
        ServerFixture f = new ServerFixture();
        InetAddress natPublic = InetAddress.getByName("192.0.2.44");
        KnockRequest declaring = ServerFixture.ssh(60).withDeclaredIpv4((java.net.Inet4Address) natPublic);
        Function<String, PipelineHarness> with = policy -> {
            try {
                return new PipelineHarness(f, "knock:\n  declaredAddress: " + policy + "\n").withCrl(f.ca.crl().build());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        IssuedCertificate alice = f.client("alice").build();
        assertThat(((Verdict.Accepted) with.apply("use-source").process(f.knock(alice, declaring))).decision().address())
                .isEqualTo(PipelineHarness.SOURCE.getAddress());
        assertThat(((Verdict.Accepted) with.apply("prefer-declared").process(f.knock(alice, declaring))).decision().address())
                .isEqualTo(natPublic);
        assertThat(reason(with.apply("require-declared").process(f.knock(alice, ServerFixture.ssh(60)))))
                .isEqualTo(DropReason.DECLARED_ADDRESS_REQUIRED);
        assertThat(reason(with.apply("must-equal-source").process(f.knock(alice, declaring))))
                .isEqualTo(DropReason.DECLARED_ADDRESS_MISMATCH);
        // The certificate's sources apply to the declared address when it is used.
        IssuedCertificate confined = ServerFixture.client(f.ca, "carol", SSH.withSources(List.of(SourcePrefix.parse("192.0.2.0/24"))))
                .build();
        assertThat(with.apply("prefer-declared").process(f.knock(confined, declaring))).isInstanceOf(Verdict.Accepted.class);
        assertThat(reason(with.apply("use-source").process(f.knock(confined, declaring)))).isEqualTo(DropReason.SOURCE_NOT_ALLOWED);
    }
}
