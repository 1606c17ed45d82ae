package dev.certknock.client.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.certknock.client.ClientPki;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import dev.certknock.protocol.knock.KnockContent;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockVersion;
import dev.certknock.protocol.knock.ServerPublicKey;
import dev.certknock.protocol.knock.VerifiedKnock;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Knock v2 with a server that answers: a fake server on loopback replies {@code AddressNotSigned} with a made-up
 * observed address (TEST-NET 192.0.2.0/24, written only inside the reply: nothing is ever sent there), or
 * {@code Opened}, or junk, or nothing.
 */
class KnockReplyTest {

    private static final List<PortGrant> SSH = List.of(PortGrant.parse("tcp/22"));
    /** Ample for a reply over loopback; only the test that expects no reply waits it out, with its own. */
    private static final KnockOptions WAIT = KnockOptions.defaults().withReplyTimeout(Duration.ofSeconds(5));
    private static final long SERVER_AHEAD_MILLIS = 7_000;

    private final ClientPki pki = new ClientPki();
    private final Inet4Address loopback = (Inet4Address) address("127.0.0.1");
    private final Inet4Address natted = (Inet4Address) address("192.0.2.33");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private KnockClient client(int port, ObservedAddressCache cache) throws KnockException {
        return client(port, cache, pki.identity());
    }

    private KnockClient client(int port, ObservedAddressCache cache, dev.certknock.client.identity.ClientIdentity id)
            throws KnockException {
        return KnockClient.builder(id, KnockTarget.of("127.0.0.1", pki.server.certificate()).withKnockPort(port))
                .clock(pki.clock).observedAddresses(cache).build();
    }

    private long serverTime() {
        return ClientPki.NOW.toEpochMilli() + SERVER_AHEAD_MILLIS;
    }

    private KnockReply.Opened opened(InetSocketAddress seen) {
        return new KnockReply.Opened(serverTime(), seen, 60);
    }

    private KnockReply.AddressNotSigned notSigned(InetAddress seen, int port) {
        return new KnockReply.AddressNotSigned(serverTime(), new InetSocketAddress(seen, port));
    }

    /** What a v2 server does: opens when the source is declared; else says which address it sees as {@code seenAs}. */
    private FakeV2Server.Script behindNat(InetAddress seenAs) {
        return (server, k, i) -> {
            KnockContent c = k.verified().content();
            if (c.declaredIpv4().filter(seenAs::equals).isPresent()) {
                return List.of(server.seal(k, opened(new InetSocketAddress(seenAs, 40_000))));
            }
            return List.of(server.seal(k, notSigned(seenAs, 40_000)));
        };
    }

    @Test
    void behindNatTheClientLearnsItsAddressFromTheReplyAndKnocksAgainFromTheSamePort() throws Exception {
        ObservedAddressCache cache = ObservedAddressCache.inMemory(8);
        try (FakeV2Server server = new FakeV2Server(pki.opener(), behindNat(natted))) {
            KnockReceipt r = client(server.port(), cache).knock(SSH, WAIT);

            assertThat(server.failures()).isEmpty();
            assertThat(server.knocks()).hasSize(2);
            FakeV2Server.Knock first = server.knocks().get(0);
            FakeV2Server.Knock second = server.knocks().get(1);
            assertThat(first.verified().content().declaredIpv4()).contains(loopback);
            assertThat(second.verified().content().declaredIpv4()).contains(natted);
            assertThat(second.verified().content().declaredIpv6()).isEmpty();
            assertThat(second.from()).isEqualTo(first.from()); // same socket: a NAT keeps its mapping
            assertThat(second.verified().content().nonce()).isNotEqualTo(first.verified().content().nonce());
            assertThat(second.verified().content().grants()).isEqualTo(SSH);

            assertThat(r.confirmed()).isTrue();
            assertThat(r.knocksSent()).isEqualTo(2);
            assertThat(r.learnedAddresses()).containsExactly(natted);
            assertThat(r.addressOrigin()).isEqualTo(AddressOrigin.ROUTE);
            assertThat(r.declaredIpv4()).contains(natted);
            assertThat(r.sourcePort()).isEqualTo(first.from().getPort());
            KnockOutcome.Confirmed c = (KnockOutcome.Confirmed) r.outcome();
            assertThat(c.openSeconds()).isEqualTo(60);
            assertThat(c.observedSource()).isEqualTo(new InetSocketAddress(natted, 40_000));
            // server time minus the midpoint of knock and reply; the client's clock stands still at NOW
            assertThat(c.clockOffset()).isBetween(Duration.ofMillis(SERVER_AHEAD_MILLIS - 1000),
                    Duration.ofMillis(SERVER_AHEAD_MILLIS));
            assertThat(cache.find(new ObservedAddressCache.Key("127.0.0.1", server.port(), loopback))).contains(natted);
        }
    }

    @Test
    void theNextKnockDeclaresTheCachedAddressAtOnce() throws Exception {
        ObservedAddressCache cache = ObservedAddressCache.inMemory(8);
        try (FakeV2Server server = new FakeV2Server(pki.opener(), behindNat(natted))) {
            client(server.port(), cache).knock(SSH, WAIT);
            // another client (another process) sharing the cache
            KnockReceipt r = client(server.port(), cache).knock(SSH, WAIT);
            assertThat(server.failures()).isEmpty();
            assertThat(server.knocks()).hasSize(3);
            assertThat(server.knocks().get(2).verified().content().declaredIpv4()).contains(natted);
            assertThat(r.addressOrigin()).isEqualTo(AddressOrigin.CACHED);
            assertThat(r.knocksSent()).isEqualTo(1);
            assertThat(r.confirmed()).isTrue();
            // a dry run declares it too
            assertThat(client(server.port(), cache).prepare(SSH, WAIT).request().declaredIpv4()).contains(natted);
        }
    }

    @Test
    void aStaleCachedAddressIsCorrectedByTheReply() throws Exception {
        ObservedAddressCache cache = ObservedAddressCache.inMemory(8);
        InetAddress now = address("192.0.2.44");
        try (FakeV2Server server = new FakeV2Server(pki.opener(), behindNat(now))) {
            cache.remember(new ObservedAddressCache.Key("127.0.0.1", server.port(), loopback), natted);
            KnockReceipt r = client(server.port(), cache).knock(SSH, WAIT);
            assertThat(server.knocks().get(0).verified().content().declaredIpv4()).contains(natted);
            assertThat(server.knocks().get(1).verified().content().declaredIpv4()).contains((Inet4Address) now);
            assertThat(r.confirmed()).isTrue();
            assertThat(r.learnedAddresses()).containsExactly(now);
            assertThat(cache.find(new ObservedAddressCache.Key("127.0.0.1", server.port(), loopback))).contains(now);
        }
    }

    @Test
    void withoutNatTheFirstKnockIsConfirmedAndNothingIsCached() throws Exception {
        ObservedAddressCache cache = ObservedAddressCache.inMemory(8);
        try (FakeV2Server server = new FakeV2Server(pki.opener(), (s, k, i) -> List.of(s.seal(k, opened(k.from()))))) {
            KnockReceipt r = client(server.port(), cache).knock(SSH, WAIT);
            assertThat(r.confirmed()).isTrue();
            assertThat(r.knocksSent()).isEqualTo(1);
            assertThat(((KnockOutcome.Confirmed) r.outcome()).observedSource().getAddress()).isEqualTo(loopback);
            assertThat(cache.find(new ObservedAddressCache.Key("127.0.0.1", server.port(), loopback))).isEmpty();
        }
    }

    @Test
    void noReplyLeavesTheKnockUnconfirmedAfterTheReplyTimeout() throws Exception {
        try (FakeV2Server server = new FakeV2Server(pki.opener(), (s, k, i) -> List.of())) {
            long start = System.nanoTime();
            KnockReceipt r = client(server.port(), ObservedAddressCache.NONE)
                    .knock(SSH, KnockOptions.defaults().withReplyTimeout(Duration.ofMillis(300)));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(r.outcome()).isInstanceOf(KnockOutcome.Unconfirmed.class);
            assertThat(((KnockOutcome.Unconfirmed) r.outcome()).waited()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(300)).isLessThan(Duration.ofSeconds(20));
            assertThat(r.knocksSent()).isEqualTo(1);
            assertThat(server.knocks()).hasSize(1);
        }
    }

    @Test
    void junkAndAReplyToAnotherKnockAreIgnored() throws Exception {
        // another knock of the same client, opened by the server: its reply must not pass for this knock's
        KnockSealer otherSealer = KnockSealer.create(pki.identity().credential(),
                ServerPublicKey.fromCertificate(pki.server.certificate()));
        VerifiedKnock other = pki.opener().openAndVerify(otherSealer.seal(KnockRequest.of(60, SSH)
                .withDeclaredIpv4(loopback)).datagram());
        try (FakeV2Server server = new FakeV2Server(pki.opener(), (s, k, i) -> List.of(
                new byte[0],
                "not a reply".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                new byte[61],
                s.seal(other, notSigned(natted, 1)),
                s.seal(k, opened(k.from()))))) {
            KnockReceipt r = client(server.port(), ObservedAddressCache.NONE).knock(SSH, WAIT);
            assertThat(server.failures()).isEmpty();
            assertThat(r.confirmed()).isTrue();
            assertThat(r.learnedAddresses()).isEmpty();
            assertThat(server.knocks()).hasSize(1);
        }
    }

    @Test
    void aNatThatMapsEveryPacketElsewhereFailsAfterTwoRounds() throws Exception {
        try (FakeV2Server server = new FakeV2Server(pki.opener(),
                (s, k, i) -> List.of(s.seal(k, notSigned(address("192.0.2." + (100 + i)), 40_000 + i))))) {
            KnockException e = catchThrowableOfType(() -> client(server.port(), ObservedAddressCache.NONE)
                    .knock(SSH, WAIT), KnockException.class);
            assertThat(e.reason()).isEqualTo(KnockException.Reason.ADDRESS_NOT_ACCEPTED);
            assertThat(e.getMessage()).contains("192.0.2.100, 192.0.2.101, 192.0.2.102")
                    .contains("maps every packet to a different address");
            assertThat(server.knocks()).hasSize(1 + KnockClient.MAX_ADDRESS_ROUNDS);
        }
    }

    @Test
    void aLearnedAddressOutsideTheCertificateSourcesIsAClearFailure() throws Exception {
        CertknockGrants confined = ClientPki.DEFAULT_GRANTS.withSources(List.of(SourcePrefix.parse("127.0.0.0/8")));
        var identity = pki.identityOf(ClientPki.clientBuilder(pki.ca, confined).build());
        ObservedAddressCache cache = ObservedAddressCache.inMemory(8);
        try (FakeV2Server server = new FakeV2Server(pki.opener(), behindNat(natted))) {
            KnockException e = catchThrowableOfType(() -> client(server.port(), cache, identity).knock(SSH, WAIT),
                    KnockException.class);
            assertThat(e.reason()).isEqualTo(KnockException.Reason.SOURCE_NOT_PERMITTED);
            assertThat(e.getMessage()).isEqualTo("the server sees your knocks coming from 192.0.2.33, and your "
                    + "certificate allows openings only for [127.0.0.0/8]: knock from a network inside those (a VPN, "
                    + "the office network), or ask for a certificate that allows this address");
            assertThat(server.knocks()).hasSize(1);
            assertThat(cache.find(new ObservedAddressCache.Key("127.0.0.1", server.port(), loopback))).isEmpty();
        }
    }

    @Test
    void v1DeclaresNothingAndDoesNotWait() throws Exception {
        try (FakeV2Server server = new FakeV2Server(pki.opener(), (s, k, i) -> List.of())) {
            KnockReceipt r = client(server.port(), ObservedAddressCache.NONE)
                    .knock(SSH, KnockOptions.defaults().withVersion(KnockVersion.V1)
                            .withReplyTimeout(Duration.ofSeconds(30)));
            assertThat(r.outcome()).isEqualTo(new KnockOutcome.NotWaited());
            assertThat(r.version()).isEqualTo(KnockVersion.V1);
            assertThat(r.addressOrigin()).isEqualTo(AddressOrigin.NONE);
            assertThat(r.declaredIpv4()).isEmpty();
            awaitKnocks(server, 1);
            assertThat(server.knocks().get(0).verified().version()).isEqualTo(KnockVersion.V1);
            assertThat(server.knocks().get(0).verified().content().declaredIpv4()).isEmpty();
            assertThat(server.knocks().get(0).verified().content().declaredIpv6()).isEmpty();
        }
    }

    @Test
    void fireAndForgetDeclaresTheRouteAddressAndDoesNotWait() throws Exception {
        try (FakeV2Server server = new FakeV2Server(pki.opener(), (s, k, i) -> List.of(s.seal(k, opened(k.from()))))) {
            KnockReceipt r = client(server.port(), ObservedAddressCache.NONE)
                    .knock(SSH, KnockOptions.defaults().withoutReply().withReplyTimeout(Duration.ofSeconds(30)));
            assertThat(r.outcome()).isEqualTo(new KnockOutcome.NotWaited());
            assertThat(r.version()).isEqualTo(KnockVersion.V2);
            assertThat(r.declaredIpv4()).contains(loopback);
            awaitKnocks(server, 1);
        }
    }

    @Test
    void theInMemoryCacheIsBounded() throws Exception {
        ObservedAddressCache cache = ObservedAddressCache.inMemory(64);
        for (int i = 0; i < 100; i++) {
            cache.remember(new ObservedAddressCache.Key("gw" + i + ".example.test", 62201, loopback), natted);
        }
        assertThat(((InMemoryObservedAddressCache) cache).size()).isEqualTo(64);
        assertThat(cache.find(new ObservedAddressCache.Key("gw0.example.test", 62201, loopback))).isEmpty();
        assertThat(cache.find(new ObservedAddressCache.Key("GW99.example.test", 62201, loopback))).contains(natted);
        assertThat(new ObservedAddressCache.Key("[::1]", 1, loopback).host()).isEqualTo("::1");
        assertThat(ObservedAddressCache.NONE.find(new ObservedAddressCache.Key("a", 1, loopback)))
                .isEqualTo(Optional.empty());
    }

    @Test
    void awaitOpenResendsTheLearnedAddressAndReadsTheReplies() throws Exception {
        int tcp;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, loopback)) {
            tcp = probe.getLocalPort();
        }
        // shut now: the port "opens" with the third knock
        {
            java.util.concurrent.atomic.AtomicReference<java.net.ServerSocket> listening =
                    new java.util.concurrent.atomic.AtomicReference<>();
            FakeV2Server.Script nat = behindNat(natted);
            try (FakeV2Server server = new FakeV2Server(pki.opener(), (s, k, i) -> {
                if (i == 2) {
                    listening.set(new java.net.ServerSocket(tcp, 50, loopback));
                }
                return nat.answer(s, k, i);
            })) {
                KnockClient client = KnockClient.builder(pki.identity(), KnockTarget.of("127.0.0.1",
                        pki.server.certificate()).withKnockPort(server.port())).clock(pki.clock)
                        .observedAddresses(ObservedAddressCache.NONE).probeTimeout(Duration.ofMillis(200))
                        .retryPause(Duration.ofMillis(50)).build();
                KnockReceipt first = client.knock(List.of(PortGrant.single(
                        dev.certknock.protocol.grant.Protocol.TCP, tcp)), WAIT);
                assertThat(first.learnedAddresses()).containsExactly(natted);
                List<KnockReceipt> resent = new java.util.concurrent.CopyOnWriteArrayList<>();
                // 3 resends at most, the first due after a quarter of the timeout
                OpenConfirmation c = client.awaitOpen(first, tcp, Duration.ofSeconds(8), new AwaitListener() {
                    @Override
                    public void knockResent(KnockReceipt again, int knocksSent, Duration elapsed) {
                        resent.add(again);
                    }
                });
                assertThat(c.opened()).isTrue();
                assertThat(server.failures()).isEmpty();
                // the resend declared the learned address at once and was confirmed
                assertThat(resent).hasSize(1);
                assertThat(resent.get(0).declaredIpv4()).contains(natted);
                assertThat(resent.get(0).addressOrigin()).isEqualTo(AddressOrigin.LEARNED);
                assertThat(resent.get(0).knocksSent()).isEqualTo(1);
                assertThat(resent.get(0).confirmed()).isTrue();
                assertThat(server.knocks()).hasSize(3);
            } finally {
                if (listening.get() != null) {
                    listening.get().close();
                }
            }
        }
    }

    /** Waits (bounded) until the fake server has read {@code n} knocks: the client did not wait for it. */
    private static void awaitKnocks(FakeV2Server server, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.knocks().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(server.knocks()).hasSize(n);
    }
}
