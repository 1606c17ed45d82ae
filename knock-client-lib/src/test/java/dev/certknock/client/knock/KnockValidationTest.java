package dev.certknock.client.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.certknock.client.ClientPki;
import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every check before sending, each with its reason and message; and nothing is sent when one fails. */
class KnockValidationTest {

    private final ClientPki pki = new ClientPki();
    private static final List<PortGrant> SSH = List.of(PortGrant.parse("tcp/22"));

    private KnockException failure(ClientIdentity identity, KnockTarget target, List<PortGrant> grants,
            KnockOptions options) {
        return catchThrowableOfType(() -> KnockClient.builder(identity, target).clock(pki.clock).build()
                .knock(grants, options), KnockException.class);
    }

    private KnockException failure(KnockTarget target) {
        return failure(pki.identity(), target, SSH, KnockOptions.defaults());
    }

    private KnockTarget target() {
        return KnockTarget.of(ClientPki.SERVER_NAME, pki.server.certificate());
    }

    /** A target that resolves (a v2 knock that declares nothing given needs the route's local address). */
    private KnockTarget local() {
        return KnockTarget.of("127.0.0.1", pki.server.certificate());
    }

    @Test
    void aServerCertificateFromAnotherCaIsUntrusted() {
        TestCa other = TestCa.root("CN=someone else's root", pki.clock);
        IssuedCertificate stranger = ClientPki.serverBuilder(other, KeyType.P256).build();
        KnockException e = failure(KnockTarget.of("127.0.0.1", stranger.certificate()));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_CERTIFICATE_UNTRUSTED);
        assertThat(e.getMessage()).startsWith("the server certificate 'CN=gw1.example.test' does not chain to your CA "
                + "(CN=certknock test root): ").endsWith("Check that you were given the right server certificate.");
    }

    @Test
    void aServerCertificateUnderAnIntermediateIsTrustedWhenTheIntermediateComesAlong() throws Exception {
        TestCa intermediate = pki.ca.intermediate("CN=servers CA").build();
        IssuedCertificate server = ClientPki.serverBuilder(intermediate, KeyType.P256).build();
        KnockTarget alone = KnockTarget.of("127.0.0.1", server.certificate());
        assertThat(failure(alone).reason()).isEqualTo(KnockException.Reason.SERVER_CERTIFICATE_UNTRUSTED);
        KnockTarget withChain = new KnockTarget("127.0.0.1", 9, server.chain(), IpPreference.ANY);
        PreparedKnock p = KnockClient.builder(pki.identity(), withChain).clock(pki.clock).build()
                .prepare(SSH, KnockOptions.defaults());
        assertThat(p.size()).isPositive();
    }

    @Test
    void anIdentityWithoutCaCertificatesCannotCheckTheServer() throws Exception {
        ClientIdentity bare = ClientIdentity.of(pki.client.privateKey(), List.of(pki.client.certificate()));
        KnockException e = failure(bare, target(), SSH, KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_CERTIFICATE_UNTRUSTED);
        assertThat(e.getMessage()).isEqualTo("the bundle holds no CA certificate to check the server certificate "
                + "against: give the CA certificate separately");
        // Adding the anchor makes it work.
        KnockClient.builder(bare.withTrustAnchors(List.of(pki.ca.certificate())), local()).clock(pki.clock).build()
                .prepare(SSH, KnockOptions.defaults());
    }

    @Test
    void aServerCertificateWithoutTheServerUsageIsRefused() {
        IssuedCertificate plain = pki.ca.leaf("CN=gw1.example.test").dnsName(ClientPki.SERVER_NAME).build();
        KnockException e = failure(KnockTarget.of("127.0.0.1", plain.certificate()));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_CERTIFICATE_NOT_FOR_KNOCKS);
        assertThat(e.getMessage()).isEqualTo("the server certificate 'CN=gw1.example.test' lacks extended key usage "
                + "id-kp-certknockServer (" + CertknockOids.KP_SERVER + "): it is not a certknock server certificate");
    }

    @Test
    void anExpiredServerCertificateIsRefused() {
        IssuedCertificate old = ClientPki.serverBuilder(pki.ca, KeyType.P256).expired().build();
        KnockException e = failure(KnockTarget.of("127.0.0.1", old.certificate()));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_CERTIFICATE_NOT_VALID_NOW);
        assertThat(e.getMessage()).isEqualTo("the server certificate 'CN=gw1.example.test' expired at "
                + old.certificate().getNotAfter().toInstant());
    }

    @Test
    void aServerKeyThatCannotSealIsRefused() {
        IssuedCertificate rsa = ClientPki.serverBuilder(pki.ca, KeyType.RSA2048).build();
        KnockException e = failure(KnockTarget.of("127.0.0.1", rsa.certificate()));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_KEY_UNSUPPORTED);
        assertThat(e.getMessage()).contains("the server key must be EC P-256 or X25519");
    }

    @Test
    void anExpiredClientCertificateIsRefused() {
        IssuedCertificate old = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).expired().build();
        KnockException e = failure(pki.identityOf(old), target(), SSH, KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.CLIENT_CERTIFICATE_NOT_VALID_NOW);
        assertThat(e.getMessage()).isEqualTo("the client certificate 'CN=alice' expired at "
                + old.certificate().getNotAfter().toInstant() + ": ask your CA for a new bundle");
    }

    @Test
    void theClientCertificateExpiresByTheInjectedClock() throws Exception {
        KnockClient client = KnockClient.builder(pki.identity(), local()).clock(pki.clock).build();
        client.prepare(SSH, KnockOptions.defaults());
        pki.clock.advance(Duration.ofDays(31));
        KnockException e = catchThrowableOfType(() -> client.prepare(SSH, KnockOptions.defaults()), KnockException.class);
        assertThat(e.reason()).isEqualTo(KnockException.Reason.CLIENT_CERTIFICATE_NOT_VALID_NOW);
    }

    @Test
    void aNotYetValidClientCertificateIsRefused() {
        IssuedCertificate early = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).notYetValid().build();
        KnockException e = failure(pki.identityOf(early), target(), SSH, KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.CLIENT_CERTIFICATE_NOT_VALID_NOW);
        assertThat(e.getMessage()).isEqualTo("the client certificate 'CN=alice' is not valid before "
                + early.certificate().getNotBefore().toInstant() + ": ask your CA for a new bundle");
    }

    @Test
    void aClientCertificateWithoutGrantsOrUsageIsRefused() {
        IssuedCertificate noGrants = pki.ca.leaf("CN=alice").extendedKeyUsage(CertknockOids.KP_CLIENT.getId()).build();
        KnockException e = failure(pki.identityOf(noGrants), target(), SSH, KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.CLIENT_CERTIFICATE_WITHOUT_GRANTS);
        assertThat(e.getMessage()).isEqualTo("the client certificate 'CN=alice' carries no certknock grants "
                + "extension, so it may open no ports");

        IssuedCertificate noUsage = pki.ca.leaf("CN=alice").build();
        e = failure(pki.identityOf(noUsage), target(), SSH, KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.CLIENT_CERTIFICATE_NOT_FOR_KNOCKS);
        assertThat(e.getMessage()).startsWith("the client certificate 'CN=alice' lacks extended key usage "
                + "id-kp-certknockClient");
    }

    @Test
    void aGrantOutsideTheCertificateIsRefused() {
        KnockException e = failure(pki.identity(), target(), List.of(PortGrant.parse("udp/7999-8001")),
                KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.GRANT_NOT_PERMITTED);
        assertThat(e.getMessage()).isEqualTo("your certificate does not grant udp/7999-8001: it grants tcp/22, "
                + "udp/8000-8100, tcp/1024-65535 (a request must lie inside one single grant)");
    }

    @Test
    void aServerTheCertificateDoesNotListIsRefused() throws Exception {
        CertknockGrants onlyGw9 = ClientPki.DEFAULT_GRANTS.withServers(List.of("gw9.example.test"));
        IssuedCertificate c = ClientPki.clientBuilder(pki.ca, onlyGw9).build();
        KnockException e = failure(pki.identityOf(c), KnockTarget.of("127.0.0.1", pki.server.certificate()), SSH,
                KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_NOT_PERMITTED);
        assertThat(e.getMessage()).isEqualTo("your certificate may knock only on [gw9.example.test], and this server "
                + "is known as [gw1.example.test]");
        // The server certificate's DNS name (any case) or the target host name satisfies the list.
        CertknockGrants gw1 = ClientPki.DEFAULT_GRANTS.withServers(List.of("GW1.example.TEST"));
        KnockClient.builder(pki.identityOf(ClientPki.clientBuilder(pki.ca, gw1).build()),
                KnockTarget.of("127.0.0.1", pki.server.certificate())).clock(pki.clock).build()
                .prepare(SSH, KnockOptions.defaults());
        CertknockGrants byHost = ClientPki.DEFAULT_GRANTS.withServers(List.of("localhost"));
        KnockClient.builder(pki.identityOf(ClientPki.clientBuilder(pki.ca, byHost).build()),
                KnockTarget.of("localhost", pki.server.certificate())).serverName(ClientPki.SERVER_NAME).clock(pki.clock)
                .build()
                .prepare(SSH, KnockOptions.defaults());
    }

    @Test
    void aDurationOverTheCertificateLimitIsRefused() {
        KnockException e = failure(pki.identity(), target(), SSH, KnockOptions.defaults().withDurationSeconds(301));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.DURATION_NOT_PERMITTED);
        assertThat(e.getMessage()).isEqualTo("you asked for 301 s but your certificate allows at most 300 s");
    }

    @Test
    void malformedRequestsAreRefused() throws Exception {
        KnockException e = failure(pki.identity(), target(), List.of(), KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.INVALID_REQUEST);
        assertThat(e.getMessage()).isEqualTo("a knock must request at least one grant, e.g. tcp/22");

        e = failure(pki.identity(), target(), SSH, KnockOptions.defaults().withDurationSeconds(0));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.INVALID_REQUEST);
        assertThat(e.getMessage()).isEqualTo("duration 0 s is outside 1-86400 seconds");

        e = failure(pki.identity(), target(), SSH, KnockOptions.defaults()
                .withDeclaredAddress(InetAddress.getByName("192.0.2.1"))
                .withDeclaredAddress(InetAddress.getByName("192.0.2.2")));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.INVALID_REQUEST);
        assertThat(e.getMessage()).isEqualTo("two IPv4 addresses to declare (192.0.2.1, 192.0.2.2): a knock declares "
                + "at most one IPv4 and one IPv6 address");
    }

    @Test
    void aDeclaredAddressOutsideTheCertificateSourcesIsRefused() throws Exception {
        CertknockGrants confined = ClientPki.DEFAULT_GRANTS.withSources(List.of(SourcePrefix.parse("198.51.100.0/24")));
        IssuedCertificate c = ClientPki.clientBuilder(pki.ca, confined).build();
        KnockException e = failure(pki.identityOf(c), target(), SSH,
                KnockOptions.defaults().withDeclaredAddress(InetAddress.getByName("192.0.2.1")));
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SOURCE_NOT_PERMITTED);
        assertThat(e.getMessage()).isEqualTo("your certificate allows openings only for [198.51.100.0/24], not for "
                + "the declared 192.0.2.1");
    }

    @Test
    void aDatagramOverTheLimitIsRefusedWithTheSealersExplanation() {
        IssuedCertificate fat = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS)
                .extension("1.3.6.1.4.1.99999.1", false, new byte[900]).build();
        KnockException e = failure(pki.identityOf(fat), local(), SSH, KnockOptions.defaults());
        assertThat(e.reason()).isEqualTo(KnockException.Reason.DATAGRAM_TOO_LARGE);
        assertThat(e.getMessage()).startsWith("the knock would be ").contains("over the 1232-byte limit")
                .contains("Leave out intermediates");
    }

    @Test
    void nothingIsSentWhenACheckFails() throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            KnockTarget t = KnockTarget.of("127.0.0.1", pki.server.certificate()).withKnockPort(server.getLocalPort());
            KnockException e = failure(pki.identity(), t, List.of(PortGrant.parse("tcp/21")), KnockOptions.defaults());
            assertThat(e.reason()).isEqualTo(KnockException.Reason.GRANT_NOT_PERMITTED);
            server.setSoTimeout(300);
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.receive(p))
                    .isInstanceOf(SocketTimeoutException.class);
        }
    }
}
