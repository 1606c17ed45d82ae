package dev.certknock.server.pipeline;

import dev.certknock.server.grant.GrantDecision;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.Verdict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
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
import dev.certknock.server.crl.CrlUpdate;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.ratelimit.SourceKey;
import dev.certknock.server.ratelimit.SourceRateLimiter;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One case per drop reason, each built with the test PKI and sent through the live pipeline: dropped
 * with its reason, no grant, counted once, nothing logged above DEBUG, and the server still serves a
 * valid knock afterwards.
 */
class KnockPipelineTest {

    private static final CertknockGrants SSH = CertknockGrants.of(PortGrant.parse("tcp/22"))
            .withMaxOpenSeconds(300).withServers(List.of(ServerFixture.SERVER_NAME));

    /** Makes the harness a case runs in. */
    @FunctionalInterface
    private interface HarnessMaker {
        PipelineHarness make(ServerFixture f) throws Exception;
    }

    /** The usual harness: default configuration, the CA's CRL in force. */
    private static final HarnessMaker WITH_CRL = f -> new PipelineHarness(f).withCrl(f.ca.crl().build());

    /**
     * A case: the harness it runs in, the datagram to send (made after any state the case needs), the
     * reason it must be dropped for, and what puts the server back in a state to accept a knock (a
     * fresh CRL after a stale one, time for a budget to refill), which the drop itself must not need.
     *
     * @param operatorWarning the one logger allowed a WARN for this drop (a firewall failure is the
     *     operator's problem, and a knock reaches the firewall only after full authentication), or null:
     *     nothing above DEBUG
     */
    private record Case(String name, DropReason expected, HarnessMaker harness, Function<PipelineHarness, byte[]> datagram,
            Consumer<PipelineHarness> repair, String operatorWarning) {
        Case(String name, DropReason expected, Function<PipelineHarness, byte[]> datagram) {
            this(name, expected, WITH_CRL, datagram, h -> { }, null);
        }

        Case in(HarnessMaker maker) {
            return new Case(name, expected, maker, datagram, repair, operatorWarning);
        }

        Case repairedBy(Consumer<PipelineHarness> r) {
            return new Case(name, expected, harness, datagram, r, operatorWarning);
        }

        Case warnsOnceFrom(Class<?> logger) {
            return new Case(name, expected, harness, datagram, repair, logger.getName());
        }

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

    private static Verdict.Accepted accepted(PipelineHarness h, byte[] datagram) {
        Verdict v = h.process(datagram);
        assertThat(v).as("set-up knock").isInstanceOf(Verdict.Accepted.class);
        return (Verdict.Accepted) v;
    }

    private static void offerRejected(PipelineHarness h, X509CRL crl, String origin) {
        assertThat(h.crls.offer(PipelineHarness.encoded(crl), origin)).isInstanceOf(CrlUpdate.Rejected.class);
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
                new Case("certificate outside its CA's bound", DropReason.GRANT_OUTSIDE_CA_BOUND, h -> knockBy(h,
                        ServerFixture.client(h.f.ca.intermediate("CN=bounded CA")
                                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false,
                                        GrantsExtension.encode(CertknockGrants.of(PortGrant.parse("tcp/5432")))).build(),
                                "mallory", SSH).build(), ssh)),
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
                    d[0] = 3;
                    return d;
                }),
                new Case("knock v1, which the server reads only when its operator opts in", DropReason.UNSUPPORTED_VERSION,
                        h -> h.f.knockV1(h.f.client("alice").build(), ssh)),
                new Case("knock v2 from an address it does not sign (a copy re-sent by someone else)",
                        DropReason.ADDRESS_NOT_SIGNED, h -> knockBy(h, h.f.client("alice").build(),
                                ssh.withDeclaredIpv4(ServerFixture.ipv4("192.0.2.99")))),
                new Case("unknown suite", DropReason.UNSUPPORTED_SUITE, h -> {
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    d[1] = 0x7F;
                    return d;
                }),
                new Case("suite byte of the other key type (X25519 for a P-256 key)", DropReason.UNKNOWN_SERVER_KEY, h -> {
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    d[1] = 0x02;
                    return d;
                }),
                new Case("well sealed, content malformed (duration 0)", DropReason.MALFORMED_CONTENT,
                        h -> sealRaw(h, content(h, 0, h.f.client("alice").build().encoded()))),
                new Case("well sealed, certificate not exactly DER (a trailing byte)", DropReason.MALFORMED_CERTIFICATE, h -> {
                    byte[] der = h.f.client("alice").build().encoded();
                    return sealRaw(h, content(h, 60, java.util.Arrays.copyOf(der, der.length + 1)));
                }),
                new Case("valid RSA client certificate: no knock signature scheme", DropReason.UNSUPPORTED_SIGNATURE_KEY,
                        h -> sealRaw(h, content(h, 60, h.f.client("rsa").keyType(KeyType.RSA2048).build().encoded()))),
                new Case("source over its failure rate, and the budget down to its reserve", DropReason.SOURCE_RATE_LIMITED, h -> {
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    byte[] broken = java.util.Arrays.copyOf(d, d.length - 1);
                    // One failure puts the source in bad standing (burst 1); four from elsewhere bring the
                    // budget (10) down to its reserve (5).
                    assertThat(reason(h.process(broken))).isEqualTo(DropReason.DECRYPTION_FAILED);
                    for (int i = 0; i < 4; i++) {
                        assertThat(reason(h.process(broken, new InetSocketAddress("203.0.113." + (i + 1), 1))))
                                .isEqualTo(DropReason.DECRYPTION_FAILED);
                    }
                    return knockBy(h, h.f.client("alice").build(), ssh);
                }).in(f -> new PipelineHarness(f, "limits:\n  perSourcePerSecond: 1\n  perSourceBurst: 1\n"
                        + "  publicKeyOpsPerSecond: 10\n").withCrl(f.ca.crl().build()))
                        .repairedBy(h -> h.advance(Duration.ofSeconds(1))),
                new Case("global public-key budget spent", DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED, h -> {
                    // A datagram that fails HPKE open has still cost one public-key operation.
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    assertThat(reason(h.process(java.util.Arrays.copyOf(d, d.length - 1)))).isEqualTo(DropReason.DECRYPTION_FAILED);
                    return knockBy(h, h.f.client("alice").build(), ssh);
                }).in(f -> new PipelineHarness(f, "limits:\n  perSourcePerSecond: 1000\n  perSourceBurst: 1000\n"
                        + "  publicKeyOpsPerSecond: 1\n").withCrl(f.ca.crl().build()))
                        // a knock costs 5 units (HPKE open 1, chain validation 4), refilled at 1 a second
                        .repairedBy(h -> h.advance(Duration.ofSeconds(5))),
                new Case("replay cache full", DropReason.REPLAY_CACHE_FULL, h -> {
                    accepted(h, knockBy(h, h.f.client("alice").build(), ssh));
                    return knockBy(h, h.f.client("carol").build(), ssh);
                }).in(f -> new PipelineHarness(f, "", List.of(), 1, 10_000).withCrl(f.ca.crl().build()))
                        // alice's entry expires after the window (30 s) and the margin (5 s)
                        .repairedBy(h -> h.advance(Duration.ofSeconds(36))),
                new Case("the firewall is full (firewall.maxElements)", DropReason.FIREWALL_ELEMENT_LIMIT, h -> {
                    // From another address: the same address and port would share the one element.
                    assertThat(h.process(knockBy(h, h.f.client("alice").build(), ssh.withDeclaredIpv4(ServerFixture.ipv4("203.0.113.5"))),
                            new InetSocketAddress("203.0.113.5", 1)))
                            .isInstanceOf(Verdict.Accepted.class);
                    return knockBy(h, h.f.client("carol").build(), ssh);
                }).in(f -> new PipelineHarness(f, "", List.of(), 10_000, 1).withCrl(f.ca.crl().build()))
                        .repairedBy(h -> h.advance(Duration.ofSeconds(61))), // alice's 60 s grant expires
                new Case("one certificate past firewall.maxElementsPerCertificate", DropReason.CERTIFICATE_ELEMENT_LIMIT, h -> {
                    IssuedCertificate alice = h.f.client("alice").build();
                    assertThat(h.process(knockBy(h, alice, ssh.withDeclaredIpv4(ServerFixture.ipv4("203.0.113.5"))),
                            new InetSocketAddress("203.0.113.5", 1)))
                            .isInstanceOf(Verdict.Accepted.class);
                    return knockBy(h, alice, ssh); // another address: a second element for the same certificate
                }).in(f -> new PipelineHarness(f, "firewall:\n  maxElementsPerCertificate: 1\n", List.of(), 10_000, 10_000)
                        .withCrl(f.ca.crl().build()))
                        .repairedBy(h -> h.advance(Duration.ofSeconds(61))),
                new Case("the same packet twice", DropReason.REPLAY, h -> {
                    byte[] d = knockBy(h, h.f.client("alice").build(), ssh);
                    accepted(h, d);
                    return d;
                }),
                new Case("revoked", DropReason.REVOKED, h -> {
                    IssuedCertificate alice = h.f.client("alice").build();
                    h.withCrl(h.f.ca.crl().revoke(alice.certificate()).build());
                    return knockBy(h, alice, ssh);
                }),
                new Case("revoked, then a rollback to an older CRL that did not list it", DropReason.REVOKED, h -> {
                    IssuedCertificate alice = h.f.client("alice").build();
                    h.withCrl(h.f.ca.crl().number(5).revoke(alice.certificate()).build());
                    offerRejected(h, h.f.ca.crl().number(4).build(), "old");
                    return knockBy(h, alice, ssh);
                }),
                new Case("revoked, then a forged newer CRL that does not list it", DropReason.REVOKED, h -> {
                    IssuedCertificate alice = h.f.client("alice").build();
                    h.withCrl(h.f.ca.crl().number(5).revoke(alice.certificate()).build());
                    offerRejected(h, h.f.ca.crl().number(6).signedBy(TestCa.root(h.f.ca.certificate()
                            .getSubjectX500Principal().getName(), h.f.clock)).build(), "forged");
                    return knockBy(h, alice, ssh);
                }),
                new Case("no CRL at all", DropReason.REVOCATION_UNAVAILABLE, h -> knockBy(h, h.f.client("alice").build(), ssh))
                        .in(PipelineHarness::new)
                        .repairedBy(h -> h.withCrl(h.f.ca.crl().build())),
                new Case("only a CRL with a bad signature", DropReason.REVOCATION_UNAVAILABLE, h -> {
                    offerRejected(h, h.f.ca.crl().signedBy(TestCa.root("CN=forger", h.f.clock)).build(), "forged");
                    return knockBy(h, h.f.client("alice").build(), ssh);
                }).in(PipelineHarness::new)
                        .repairedBy(h -> h.withCrl(h.f.ca.crl().build())),
                new Case("CRL past nextUpdate, no grace: fail closed", DropReason.REVOCATION_UNAVAILABLE, h -> {
                    IssuedCertificate bob = h.f.client("bob").build();
                    accepted(h, knockBy(h, bob, ssh));
                    h.advance(Duration.ofDays(2)); // the CRL's nextUpdate is a day after it was made
                    return knockBy(h, bob, ssh);
                }).repairedBy(h -> h.withCrl(h.f.ca.crl().build())));
        return cases.stream().map(Arguments::of);
    }

    /** Drop reasons with no case in {@link #cases()}, and why. */
    private static final Map<DropReason, String> NOT_IN_CASES = Map.of(
            DropReason.QUEUE_FULL, "dropped by the dispatcher before the pipeline: KnockDispatcherTest",
            DropReason.INTERNAL_ERROR, "a stage throwing is a bug, not an input: KnockDispatcherTest",
            DropReason.FIREWALL_FAILED, "the log backend writes nothing, so it cannot fail: StagesTest.theFirewallStageTurnsARefusalIntoADrop",
            DropReason.DECLARED_ADDRESS_REQUIRED, "v1 only, needs a policy: declaredAddressPoliciesApplyToV1Knocks...",
            DropReason.DECLARED_ADDRESS_MISMATCH, "v1 only, needs a policy: declaredAddressPoliciesApplyToV1Knocks...",
            DropReason.REPLAY_STORE_UNAVAILABLE, "needs a shared store that stops answering: GatewayGroupTest");

    @Test
    void everyDropReasonHasAPipelineCase() {
        Set<DropReason> covered = EnumSet.copyOf(NOT_IN_CASES.keySet());
        cases().forEach(a -> covered.add(((Case) a.get()[0]).expected()));
        assertThat(covered).containsExactlyInAnyOrder(DropReason.values());
    }

    /** HPKE seal of {@code plaintext} to the server's key, with a correct header: what anyone holding the public key can do. */
    private static byte[] sealRaw(PipelineHarness h, byte[] plaintext) {
        try {
            ServerPublicKey to = ServerPublicKey.fromCertificate(h.f.server.certificate());
            byte[] point = SubjectPublicKeyInfo.getInstance(h.f.server.certificate().getPublicKey().getEncoded())
                    .getPublicKeyData().getBytes();
            HPKE hpke = new HPKE(HPKE.mode_base, HPKE.kem_P256_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_AES_GCM128);
            HPKEContextWithEncapsulation ctx = hpke.setupBaseS(hpke.deserializePublicKey(point),
                    "certknock v2 knock".getBytes(StandardCharsets.US_ASCII));
            ByteBuffer prefix = ByteBuffer.allocate(10 + ctx.getEncapsulation().length);
            prefix.put((byte) 2).put((byte) to.suite().wireId()).put(to.keyId()).put(ctx.getEncapsulation());
            byte[] aad = prefix.array();
            byte[] ciphertext = ctx.seal(aad, plaintext);
            return ByteBuffer.allocate(aad.length + ciphertext.length).put(aad).put(ciphertext).array();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Knock v2 content as docs/PROTOCOL.md lays it out, now, asking for tcp/22, declaring the harness's
     * source, carrying one certificate encoding, with a signature of zeros: timestamp u64 | nonce 16 |
     * duration u32 | flags u8 | grant count u8 | grants 5*n | IPv4 4 | certificate count u8 |
     * (u16 length, DER)* | signature 64.
     */
    private static byte[] content(PipelineHarness h, int durationSeconds, byte[] certificate) {
        byte[] nonce = new byte[16];
        new SecureRandom().nextBytes(nonce);
        return ByteBuffer.allocate(8 + 16 + 4 + 1 + 1 + 5 + 4 + 1 + 2 + certificate.length + 64)
                .putLong(h.f.clock.millis()).put(nonce).putInt(durationSeconds).put((byte) 1)
                .put((byte) 1).put((byte) 6).putShort((short) 22).putShort((short) 22)
                .put(ServerFixture.SOURCE_ADDRESS.getAddress())
                .put((byte) 1).putShort((short) certificate.length).put(certificate)
                .put(new byte[64]).array();
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
            return new KnockSealer(cred, h.f.serverKey.publicKey(), h.f.clock, new SecureRandom())
                    .seal(request.declaredIpv4().isPresent() ? request : request.withDeclaredIpv4(ServerFixture.SOURCE_ADDRESS))
                    .datagram();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Processes a datagram that must be dropped: dropped with its reason, no grant opened, counted once
     * under that reason and under no other, nothing logged above DEBUG (attackers choose what we drop);
     * then, after {@code repair}, the server still accepts a valid knock.
     */
    private static void assertDroppedAndStillServing(PipelineHarness h, byte[] datagram, DropReason expected,
            Consumer<PipelineHarness> repair, String operatorWarning) {
        List<GrantDecision> grantsBefore = h.firewall.active(h.f.clock.instant());
        Map<DropReason, Long> dropsBefore = h.counters.drops();
        long acceptedBefore = h.counters.accepted();
        Verdict v;
        List<String> logged;
        try (LogCapture logs = LogCapture.ofThisThread()) {
            v = h.process(datagram);
            logged = logs.aboveDebug();
        }
        assertThat(v).isInstanceOfSatisfying(Verdict.Dropped.class, d -> assertThat(d.reason()).isEqualTo(expected));
        assertThat(h.firewall.active(h.f.clock.instant())).as("no grant").isEqualTo(grantsBefore);
        Map<DropReason, Long> dropsAfter = new EnumMap<>(DropReason.class);
        dropsAfter.putAll(dropsBefore);
        dropsAfter.merge(expected, 1L, Long::sum);
        assertThat(h.counters.drops()).as("counted once, under its reason only").isEqualTo(dropsAfter);
        assertThat(h.counters.accepted()).isEqualTo(acceptedBefore);
        if (operatorWarning == null) {
            assertThat(logged).as("logged above DEBUG").isEmpty();
        } else {
            assertThat(logged).as("logged above DEBUG").singleElement(STRING)
                    .startsWith("WARN " + operatorWarning + " - ");
        }
        repair.accept(h);
        Verdict next = h.process(h.f.knock(h.f.client("bob").build(), ServerFixture.ssh(60)));
        assertThat(next).as("still serving").isInstanceOf(Verdict.Accepted.class);
    }

    private static void assertDroppedAndStillServing(PipelineHarness h, byte[] datagram, DropReason expected) {
        assertDroppedAndStillServing(h, datagram, expected, x -> { }, null);
    }

    /** The reason a datagram is dropped for, checking that nothing was logged above DEBUG for it. */
    private static DropReason droppedQuietly(PipelineHarness h, byte[] datagram, InetSocketAddress source) {
        try (LogCapture logs = LogCapture.ofThisThread()) {
            DropReason r = reason(h.process(datagram, source));
            assertThat(logs.aboveDebug()).as("logged above DEBUG for a %s drop", r).isEmpty();
            return r;
        }
    }

    private static DropReason droppedQuietly(PipelineHarness h, byte[] datagram) {
        return droppedQuietly(h, datagram, PipelineHarness.SOURCE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachBadKnockIsDroppedWithItsReason(Case c) throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = c.harness().make(f);
        assertDroppedAndStillServing(h, c.datagram().apply(h), c.expected(), c.repair(), c.operatorWarning());
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
    void theSamePacketFromAnotherSourceIsAReplayToo() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = WITH_CRL.make(f);
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        accepted(h, d);
        assertThat(droppedQuietly(h, d, new InetSocketAddress("203.0.113.9", 5555))).isEqualTo(DropReason.REPLAY);
        assertThat(h.counters.drops()).isEqualTo(Map.of(DropReason.REPLAY, 1L));
        assertThat(h.firewall.active(f.clock.instant())).as("only the first knock's grant").hasSize(1);
    }

    /** A server that holds {@code intermediate} and has its CRL and the root's. */
    private static PipelineHarness holdingIntermediate(ServerFixture f, TestCa intermediate) throws Exception {
        return new PipelineHarness(f, "", List.of(intermediate.certificate()), 10_000, 10_000)
                .withCrl(f.ca.crl().build()).withCrl(intermediate.crl().build());
    }

    /** The positive control of the intermediate cases: what they change is all that makes them fail. */
    @Test
    void aClientUnderAProperIntermediateCaIsAccepted() throws Exception {
        ServerFixture f = new ServerFixture();
        TestCa intermediate = f.ca.intermediate("CN=certknock test intermediate").build();
        PipelineHarness h = holdingIntermediate(f, intermediate);
        IssuedCertificate carol = ServerFixture.client(intermediate, "carol", SSH).build();
        assertThat(carol.chain()).containsExactly(carol.certificate(), intermediate.certificate());
        Verdict.Accepted a = accepted(h, f.knock(carol, ServerFixture.ssh(60)));
        assertThat(a.decision().issuer()).isEqualTo(intermediate.certificate().getSubjectX500Principal());
        assertThat(a.decision().serial()).isEqualTo(carol.certificate().getSerialNumber());
        // The server holds the intermediate, so a knock with the leaf alone is accepted too.
        IssuedCertificate dave = ServerFixture.client(intermediate, "dave", SSH).build();
        assertThat(h.process(seal(h, new ClientCredential(signer(dave), List.of(dave.certificate())), ServerFixture.ssh(60))))
                .isInstanceOf(Verdict.Accepted.class);
        assertThat(h.counters.drops()).isEmpty();
    }

    @Test
    void anIntermediateWithoutTheCaFlagIsUntrustedEvenWhenHeldWithItsCrl() throws Exception {
        ServerFixture f = new ServerFixture();
        TestCa notCa = f.ca.intermediate("CN=certknock test intermediate").notACa().build();
        PipelineHarness h = holdingIntermediate(f, notCa);
        assertDroppedAndStillServing(h, f.knock(ServerFixture.client(notCa, "eve", SSH).build(), ServerFixture.ssh(60)),
                DropReason.UNTRUSTED_CHAIN);
    }

    @Test
    void aClientUnderAnIntermediateWithoutItsCrlFailsClosed() throws Exception {
        ServerFixture f = new ServerFixture();
        TestCa intermediate = f.ca.intermediate("CN=certknock test intermediate").build();
        PipelineHarness h = new PipelineHarness(f, "", List.of(intermediate.certificate()), 10_000, 10_000)
                .withCrl(f.ca.crl().build());
        assertDroppedAndStillServing(h, f.knock(ServerFixture.client(intermediate, "carol", SSH).build(),
                ServerFixture.ssh(60)), DropReason.REVOCATION_UNAVAILABLE);
    }

    @Test
    void aRevokedIntermediateRevokesTheClientsUnderIt() throws Exception {
        ServerFixture f = new ServerFixture();
        TestCa intermediate = f.ca.intermediate("CN=certknock test intermediate").build();
        PipelineHarness h = holdingIntermediate(f, intermediate).withCrl(f.ca.crl().revoke(intermediate.certificate()).build());
        assertDroppedAndStillServing(h, f.knock(ServerFixture.client(intermediate, "carol", SSH).build(),
                ServerFixture.ssh(60)), DropReason.REVOKED);
    }

    @Test
    void theSamePacketConcurrentlyIsAcceptedExactlyOnce() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        int threads = 8;
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> new Thread(r, "replay-race-" + n.incrementAndGet()));
        try (LogCapture logs = LogCapture.ofThreadsNamed("replay-race-")) {
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
            // Above DEBUG only the log firewall's line for the one grant.
            assertThat(logs.aboveDebug()).singleElement(STRING)
                    .startsWith("INFO " + GrantLedger.class.getName() + " - GRANT");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void junkSpoofedFromAVictimsAddressDoesNotStopTheVictimsKnocks() throws Exception {
        ServerFixture f = new ServerFixture();
        // The default limits: 5 failures a second per source, 10 at once; a budget of 2000.
        PipelineHarness h = new PipelineHarness(f, "limits:\n  perSourcePerSecond: 5\n  perSourceBurst: 10\n")
                .withCrl(f.ca.crl().build());
        IssuedCertificate alice = f.client("alice").build();
        byte[] template = f.knock(alice, ServerFixture.ssh(60));
        List<DropReason> aliceDrops = new ArrayList<>();
        int junk = 0;
        // Five seconds of 100 junk packets a second carrying the server's key id, sent with alice's
        // address; alice knocks once a second in the middle of it.
        for (int second = 0; second < 5; second++) {
            for (int i = 0; i < 100; i++) {
                byte[] j = template.clone();
                j[j.length - 1 - (i % 64)] ^= 1; // one ciphertext bit flipped: fails the AEAD tag
                assertThat(h.process(j)).isInstanceOf(Verdict.Dropped.class);
                junk++;
                if (i == 50) {
                    Verdict v = h.process(f.knock(alice, ServerFixture.ssh(60)));
                    aliceDrops.add(v instanceof Verdict.Dropped d ? d.reason() : null);
                }
                h.advance(Duration.ofMillis(10));
            }
        }
        assertThat(junk).isEqualTo(500);
        assertThat(aliceDrops).as("alice's five knocks (null = accepted)").containsExactly(null, null, null, null, null);
        assertThat(h.counters.drops()).as("the junk cost an HPKE open each").containsEntry(DropReason.DECRYPTION_FAILED, 500L);
    }

    @Test
    void anAcceptedKnockMakesItsSourceTrustedAndAFailureMakesItFailing() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f, "limits:\n  perSourcePerSecond: 5\n  perSourceBurst: 10\n")
                .withCrl(f.ca.crl().build());
        SourceRateLimiter limiter = h.pipeline.stages().stream().filter(SourceRateLimit.class::isInstance)
                .map(s -> ((SourceRateLimit) s).limiter()).findFirst().orElseThrow();
        SourceKey source = SourceKey.of(PipelineHarness.SOURCE.getAddress());
        IssuedCertificate alice = f.client("alice").build();
        byte[] knock = f.knock(alice, ServerFixture.ssh(60));
        assertThat(limiter.standing(source)).isEqualTo(SourceRateLimiter.Standing.CLEAN);
        byte[] junk = knock.clone();
        junk[junk.length - 1] ^= 1;
        assertThat(droppedQuietly(h, junk)).isEqualTo(DropReason.DECRYPTION_FAILED);
        assertThat(limiter.standing(source)).isEqualTo(SourceRateLimiter.Standing.FAILING);
        assertThat(h.process(knock)).isInstanceOf(Verdict.Accepted.class);
        assertThat(limiter.standing(source)).isEqualTo(SourceRateLimiter.Standing.TRUSTED);
        assertThat(droppedQuietly(h, knock)).as("a drop does not record a verification").isEqualTo(DropReason.REPLAY);
        h.advance(Duration.ofMinutes(11));
        assertThat(limiter.standing(source)).isEqualTo(SourceRateLimiter.Standing.CLEAN);
    }

    @Test
    void aFailingSourceIsHeldToTheSpareBudgetWhileACleanSourceUsesTheReserve() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f, "limits:\n  perSourcePerSecond: 1\n  perSourceBurst: 2\n"
                + "  publicKeyOpsPerSecond: 20\n").withCrl(f.ca.crl().build());
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        byte[] broken = java.util.Arrays.copyOf(d, d.length - 1);
        // Junk that fails the frame check costs nothing and is charged nothing.
        for (int i = 0; i < 5; i++) {
            assertThat(droppedQuietly(h, new byte[] {1, 1, 0})).isEqualTo(DropReason.TRUNCATED);
        }
        // A flooding source: after two failures it is in bad standing and may take only what lies above
        // the reserve (10 of 20 units); then it is dropped before any cryptography.
        List<DropReason> flood = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            flood.add(droppedQuietly(h, broken));
        }
        assertThat(flood.subList(0, 10)).containsOnly(DropReason.DECRYPTION_FAILED);
        assertThat(flood.subList(10, 15)).containsOnly(DropReason.SOURCE_RATE_LIMITED);
        // A clean source draws on the reserve: its knock (5 units) is accepted.
        assertThat(h.process(f.knock(f.client("bob").build(), ServerFixture.ssh(60).withDeclaredIpv4(
                ServerFixture.ipv4("203.0.113.5"))), new InetSocketAddress("203.0.113.5", 1)))
                .isInstanceOf(Verdict.Accepted.class);
        // Valid knocks cost their source nothing: the flooding source's standing comes back with time.
        h.advance(Duration.ofSeconds(2));
        assertThat(h.process(f.knock(f.client("carol").build(), ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
    }

    @Test
    void chainValidationIsChargedToThePublicKeyBudgetBeforeTheValidatorRuns() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f, "limits:\n  perSourcePerSecond: 1000\n  perSourceBurst: 1000\n"
                + "  publicKeyOpsPerSecond: 5\n").withCrl(f.ca.crl().build());
        // Four datagrams that fail after HPKE open leave one unit: enough for an open, not for a chain.
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        for (int i = 0; i < 4; i++) {
            assertThat(reason(h.process(java.util.Arrays.copyOf(d, d.length - 1)))).isEqualTo(DropReason.DECRYPTION_FAILED);
        }
        // A chain the validator has never seen, from a CA the server does not trust: had the validator run,
        // the drop would be UNTRUSTED_CHAIN.
        TestCa other = TestCa.root("CN=other CA", f.clock);
        byte[] untrusted = f.knock(ServerFixture.client(other, "mallory", SSH).build(), ServerFixture.ssh(60));
        try (LogCapture logs = LogCapture.ofThisThread()) {
            Verdict v = h.process(untrusted);
            assertThat(v).isInstanceOfSatisfying(Verdict.Dropped.class, dropped -> {
                assertThat(dropped.reason()).isEqualTo(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED);
                assertThat(dropped.stage()).isEqualTo(ChainValidation.class.getSimpleName());
            });
            assertThat(logs.aboveDebug()).isEmpty();
        }
        // A valid client's first knock, chain not cached: dropped the same way, not validated.
        IssuedCertificate carol = f.client("carol").build();
        assertThat(reason(h.process(f.knock(carol, ServerFixture.ssh(60))))).isEqualTo(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED);
        // Once the budget holds a knock's worth, the validator runs and judges.
        h.advance(Duration.ofSeconds(5));
        assertThat(reason(h.process(f.knock(ServerFixture.client(other, "mallory", SSH).build(), ServerFixture.ssh(60)))))
                .isEqualTo(DropReason.UNTRUSTED_CHAIN);
        h.advance(Duration.ofSeconds(5));
        assertThat(h.process(f.knock(carol, ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
    }

    @Test
    void aWallClockStepForwardDoesNotLetAKnockBeReplayedWithinItsRealWindow() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = WITH_CRL.make(f);
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        accepted(h, d);
        // The wall clock jumps an hour ahead: knocks made on it go on being accepted, and expire entries.
        f.clock.stepWall(Duration.ofHours(1));
        h.advance(Duration.ofSeconds(1));
        accepted(h, f.knock(f.client("bob").build(), ServerFixture.ssh(60)));
        h.replay.sweep();
        // It is stepped back: alice's knock is within its window again, and must still be refused.
        f.clock.stepWall(Duration.ofHours(-1));
        h.advance(Duration.ofSeconds(1));
        assertThat(droppedQuietly(h, d)).isEqualTo(DropReason.REPLAY);
        assertThat(h.counters.accepted()).as("alice's knock and bob's only").isEqualTo(2);
    }

    @Test
    void aWallClockStepBackDoesNotFreezeTheRateLimits() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f, "limits:\n  perSourcePerSecond: 1\n  perSourceBurst: 1\n"
                + "  publicKeyOpsPerSecond: 1\n").withCrl(f.ca.crl().build());
        // Spend the global budget with a datagram that fails after HPKE open.
        byte[] d = f.knock(f.client("alice").build(), ServerFixture.ssh(60));
        assertThat(reason(h.process(java.util.Arrays.copyOf(d, d.length - 1)))).isEqualTo(DropReason.DECRYPTION_FAILED);
        // NTP steps the clock back a minute; ten seconds pass, far more than a refill takes.
        f.clock.stepWall(Duration.ofMinutes(-1));
        h.advance(Duration.ofSeconds(10));
        assertThat(h.process(f.knock(f.client("bob").build(), ServerFixture.ssh(60)))).isInstanceOf(Verdict.Accepted.class);
    }

    private static DropReason reason(Verdict v) {
        assertThat(v).isInstanceOf(Verdict.Dropped.class);
        return ((Verdict.Dropped) v).reason();
    }

    @Test
    void declaredAddressPoliciesApplyToV1KnocksWhenTheOperatorAcceptsThem() throws Exception {
        ServerFixture f = new ServerFixture();
        InetAddress natPublic = InetAddress.getByName("192.0.2.44");
        KnockRequest declaring = ServerFixture.ssh(60).withDeclaredIpv4((java.net.Inet4Address) natPublic);
        Function<String, PipelineHarness> with = policy -> {
            try {
                return new PipelineHarness(f, "knock:\n  acceptVersion1: true\n  declaredAddress: " + policy + "\n")
                        .withCrl(f.ca.crl().build());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        IssuedCertificate alice = f.client("alice").build();
        assertThat(((Verdict.Accepted) with.apply("use-source").process(f.knockV1(alice, ServerFixture.ssh(60))))
                .decision().address()).isEqualTo(PipelineHarness.SOURCE.getAddress());
        assertThat(((Verdict.Accepted) with.apply("use-source").process(f.knockV1(alice, declaring))).decision().address())
                .isEqualTo(PipelineHarness.SOURCE.getAddress());
        assertThat(((Verdict.Accepted) with.apply("prefer-declared").process(f.knockV1(alice, declaring))).decision().address())
                .isEqualTo(natPublic);
        assertThat(droppedQuietly(with.apply("require-declared"), f.knockV1(alice, ServerFixture.ssh(60))))
                .isEqualTo(DropReason.DECLARED_ADDRESS_REQUIRED);
        assertThat(droppedQuietly(with.apply("must-equal-source"), f.knockV1(alice, declaring)))
                .isEqualTo(DropReason.DECLARED_ADDRESS_MISMATCH);
        // must-equal-source with nothing declared: whoever sent the copy first would get the grant.
        assertThat(droppedQuietly(with.apply("must-equal-source"), f.knockV1(alice, ServerFixture.ssh(60))))
                .isEqualTo(DropReason.DECLARED_ADDRESS_REQUIRED);
        assertThat(with.apply("must-equal-source").process(f.knockV1(alice, ServerFixture.ssh(60)
                .withDeclaredIpv4(ServerFixture.SOURCE_ADDRESS)))).isInstanceOf(Verdict.Accepted.class);
        // The certificate's sources apply to the declared address when it is used.
        IssuedCertificate confined = ServerFixture.client(f.ca, "carol", SSH.withSources(List.of(SourcePrefix.parse("192.0.2.0/24"))))
                .build();
        assertThat(with.apply("prefer-declared").process(f.knockV1(confined, declaring))).isInstanceOf(Verdict.Accepted.class);
        assertThat(droppedQuietly(with.apply("use-source"), f.knockV1(confined, declaring))).isEqualTo(DropReason.SOURCE_NOT_ALLOWED);
        // The policy does not apply to v2: a v2 knock opens its source, and only when it signs it.
        assertThat(droppedQuietly(with.apply("prefer-declared"), f.knock(alice, declaring)))
                .isEqualTo(DropReason.ADDRESS_NOT_SIGNED);
    }
}
