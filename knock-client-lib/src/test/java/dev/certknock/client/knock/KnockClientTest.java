package dev.certknock.client.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.certknock.client.ClientPki;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockContent;
import dev.certknock.protocol.knock.KnockVersion;
import dev.certknock.testing.pki.KeyType;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TimeZone;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Knocks sent over real loopback sockets, received and opened with the server's key. */
class KnockClientTest {

    private final ClientPki pki = new ClientPki();

    /** These tests read the knocks themselves and never reply: nothing to wait for. */
    private static final KnockOptions NO_REPLY = KnockOptions.defaults().withoutReply();

    private KnockClient clientFor(KnockTarget target) throws KnockException {
        return KnockClient.builder(pki.identity(), target).clock(pki.clock).build();
    }

    private static DatagramPacket receive(DatagramSocket socket) throws Exception {
        DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
        socket.setSoTimeout(5000);
        socket.receive(packet);
        return packet;
    }

    private static byte[] payload(DatagramPacket packet) {
        return java.util.Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
    }

    @Test
    void aKnockArrivesOnLoopbackAndOpensToExactlyTheRequestedFields() throws Exception {
        assertThat(ZoneId.systemDefault().getId()).isNotEqualTo("UTC").isNotEqualTo("Z");
        assertThat(TimeZone.getDefault().getRawOffset()).isNotZero();
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            KnockClient client = clientFor(KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(server.getLocalPort()));
            List<PortGrant> grants = List.of(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8010"));
            Inet4Address declared = (Inet4Address) InetAddress.getByName("203.0.113.7");
            KnockReceipt receipt = client.knock(grants,
                    NO_REPLY.withDurationSeconds(120).withDeclaredAddress(declared));

            DatagramPacket packet = receive(server);
            KnockContent content = pki.opener().openAndVerify(payload(packet)).content();
            assertThat(content.grants()).isEqualTo(grants);
            assertThat(content.durationSeconds()).isEqualTo(120);
            assertThat(content.declaredIpv4()).contains(declared);
            assertThat(content.declaredIpv6()).isEmpty();
            // The wire carries UTC epoch milliseconds from the injected clock, whatever the local zone.
            assertThat(content.timestampMillis()).isEqualTo(ClientPki.NOW.toEpochMilli());
            // The chain sent is the leaf alone: the self-signed root stays home.
            assertThat(content.chain()).containsExactly(pki.client.certificate());

            assertThat(receipt.timestampMillis()).isEqualTo(ClientPki.NOW.toEpochMilli());
            assertThat(receipt.timestamp()).isEqualTo(ClientPki.NOW);
            assertThat(receipt.datagramSize()).isEqualTo(packet.getLength());
            assertThat(receipt.sourcePort()).isEqualTo(packet.getPort());
            assertThat(receipt.target()).isEqualTo(new InetSocketAddress("127.0.0.1", server.getLocalPort()));
            assertThat(receipt.grants()).isEqualTo(grants);
            assertThat(receipt.durationSeconds()).isEqualTo(120);
            assertThat(receipt.declaredIpv4()).contains(declared);
            assertThat(receipt.declaredIpv6()).isEmpty();
        }
    }

    @Test
    void knocksOverIpv6Loopback() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        DatagramSocket server;
        try {
            server = new DatagramSocket(new InetSocketAddress(v6, 0));
        } catch (java.net.SocketException e) {
            assumeThat(false).as("IPv6 loopback unavailable: " + e.getMessage()).isTrue();
            return;
        }
        try (server) {
            KnockClient client = clientFor(KnockTarget.of("::1", pki.server.certificate())
                    .withKnockPort(server.getLocalPort()).withIpPreference(IpPreference.IPV6));
            Inet6Address declared = (Inet6Address) InetAddress.getByName("2001:db8::7");
            KnockReceipt receipt = client.knock(List.of(PortGrant.parse("tcp/22")),
                    NO_REPLY.withDeclaredAddress(declared));
            DatagramPacket packet = receive(server);
            KnockContent content = pki.opener().openAndVerify(payload(packet)).content();
            assertThat(content.grants()).containsExactly(PortGrant.parse("tcp/22"));
            assertThat(content.declaredIpv6()).contains(declared);
            assertThat(content.durationSeconds()).isEqualTo(60);
            assertThat(receipt.target().getAddress()).isEqualTo(v6);
            assertThat(packet.getAddress()).isInstanceOf(Inet6Address.class);
            assertThat(receipt.sourcePort()).isEqualTo(packet.getPort());
        }
    }

    @Test
    void anX25519ServerAndAnEd25519ClientWork() throws Exception {
        ClientPki other = new ClientPki(KeyType.X25519, KeyType.ED25519);
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            KnockClient client = KnockClient.builder(other.identity(),
                    KnockTarget.of("127.0.0.1", other.server.certificate()).withKnockPort(server.getLocalPort()))
                    .clock(other.clock).build();
            client.knock(List.of(PortGrant.parse("udp/8050")), NO_REPLY);
            KnockContent content = other.opener().openAndVerify(payload(receive(server))).content();
            assertThat(content.grants()).containsExactly(PortGrant.parse("udp/8050"));
        }
    }

    @Test
    void aV2KnockDeclaresTheRouteAddressWhenNothingIsGivenOrCached() throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            KnockClient client = clientFor(KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(server.getLocalPort()));
            KnockReceipt receipt = client.knock(List.of(PortGrant.parse("tcp/22")), NO_REPLY);
            var verified = pki.opener().openAndVerify(payload(receive(server)));
            assertThat(verified.version()).isEqualTo(KnockVersion.V2);
            assertThat(verified.content().declaredIpv4()).contains((Inet4Address) InetAddress.getByName("127.0.0.1"));
            assertThat(receipt.declaredIpv4()).isEqualTo(verified.content().declaredIpv4());
            assertThat(receipt.addressOrigin()).isEqualTo(AddressOrigin.ROUTE);
            assertThat(receipt.outcome()).isEqualTo(new KnockOutcome.NotWaited());
        }
    }

    @Test
    void theDefaultDurationIsCappedByTheCertificate() throws Exception {
        var grants = ClientPki.DEFAULT_GRANTS.withMaxOpenSeconds(30);
        var c = ClientPki.clientBuilder(pki.ca, grants).build();
        KnockClient client = KnockClient.builder(pki.identityOf(c), KnockTarget.of("127.0.0.1", pki.server.certificate()))
                .clock(pki.clock).build();
        PreparedKnock prepared = client.prepare(List.of(PortGrant.parse("tcp/22")), KnockOptions.defaults());
        assertThat(prepared.request().durationSeconds()).isEqualTo(30);
    }

    @Test
    void everyKnockUsesAFreshSourcePortAndNonce() throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            KnockClient client = clientFor(KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(server.getLocalPort()));
            Set<Integer> ports = new HashSet<>();
            Set<Object> nonces = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                KnockReceipt r = client.knock(List.of(PortGrant.parse("tcp/22")), NO_REPLY);
                DatagramPacket p = receive(server);
                assertThat(p.getPort()).isEqualTo(r.sourcePort());
                ports.add(p.getPort());
                nonces.add(pki.opener().openAndVerify(payload(p)).content().nonce());
            }
            // Five ports drawn from the kernel's ephemeral range: at least four distinct even if two collide.
            assertThat(ports).hasSizeGreaterThanOrEqualTo(4);
            assertThat(nonces).hasSize(5);
        }
    }

    @Test
    void oneClientKnocksFromManyThreads() throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            server.setReceiveBufferSize(1 << 20);
            KnockClient client = clientFor(KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(server.getLocalPort()));
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<KnockReceipt>> sent = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int port = 2000 + i;
                sent.add(pool.submit(() -> client.knock(
                        List.of(PortGrant.single(dev.certknock.protocol.grant.Protocol.TCP, port)), NO_REPLY)));
            }
            Set<Integer> requested = new HashSet<>();
            for (Future<KnockReceipt> f : sent) {
                requested.add(f.get().grants().get(0).firstPort());
            }
            pool.shutdown();
            Set<Integer> received = new HashSet<>();
            for (int i = 0; i < 16; i++) {
                received.add(pki.opener().openAndVerify(payload(receive(server))).content().grants().get(0).firstPort());
            }
            assertThat(received).isEqualTo(requested).hasSize(16);
        }
    }

    @Test
    void aPreparedKnockIsExactlyWhatIsSent() throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            KnockClient client = clientFor(KnockTarget.of("127.0.0.1", pki.server.certificate())
                    .withKnockPort(server.getLocalPort()));
            PreparedKnock prepared = client.prepare(List.of(PortGrant.parse("tcp/22")), NO_REPLY);
            // Resolved once, to find the route's local address to declare; nothing is sent until send().
            assertThat(prepared.resolvedTarget()).contains(new InetSocketAddress("127.0.0.1", server.getLocalPort()));
            server.setSoTimeout(200);
            DatagramPacket nothing = new DatagramPacket(new byte[2048], 2048);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.receive(nothing))
                    .isInstanceOf(SocketTimeoutException.class);
            client.send(prepared);
            assertThat(payload(receive(server))).isEqualTo(prepared.datagram());
        }
    }

    @Test
    void ipv4PreferenceOnAnIpv6LiteralFindsNoAddress() throws Exception {
        KnockClient client = clientFor(KnockTarget.of("::1", pki.server.certificate()).withIpPreference(IpPreference.IPV4));
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(() -> client.knock(PortGrant.parse("tcp/22")),
                KnockException.class);
        assertThat(e.reason()).isEqualTo(KnockException.Reason.UNKNOWN_HOST);
        assertThat(e.getMessage()).isEqualTo("host '::1' has no IPv4 address (it has 0:0:0:0:0:0:0:1)");
    }

    @Test
    void theReceiptIsImmutable() throws Exception {
        List<InetAddress> learned = new ArrayList<>(List.of(InetAddress.getByName("192.0.2.33")));
        KnockReceipt r = new KnockReceipt(300, 1L, new InetSocketAddress("127.0.0.1", 1), 2,
                new ArrayList<>(List.of(PortGrant.parse("tcp/22"))), 60, Optional.empty(), Optional.empty(),
                KnockVersion.V2, AddressOrigin.ROUTE, learned, new KnockOutcome.NotWaited());
        learned.clear();
        assertThat(r.learnedAddresses()).hasSize(1);
        assertThat(r.knocksSent()).isEqualTo(2);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.grants().add(PortGrant.parse("tcp/23")))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(r.request().grants()).containsExactly(PortGrant.parse("tcp/22"));
    }
}
