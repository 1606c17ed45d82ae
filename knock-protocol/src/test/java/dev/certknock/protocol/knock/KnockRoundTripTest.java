package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.KeyType;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KnockRoundTripTest {

    @ParameterizedTest(name = "server {0}, client {1}")
    @CsvSource({"P256,P256", "P256,ED25519", "X25519,P256", "X25519,ED25519"})
    void everyFieldSurvivesSealAndOpen(KeyType serverType, KeyType clientType) throws Exception {
        KnockFixtures f = new KnockFixtures(serverType, clientType);
        KnockRequest request = new KnockRequest(
                List.of(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8100"), PortGrant.parse("tcp/443")), 120,
                java.util.Optional.of((Inet4Address) InetAddress.getByName("198.51.100.7")),
                java.util.Optional.of((Inet6Address) InetAddress.getByName("2001:db8::42")));

        SealedKnock sealed = f.sealer().seal(request);
        VerifiedKnock opened = f.opener().openAndVerify(sealed.datagram());

        KnockContent c = opened.content();
        assertThat(c.timestampMillis()).isEqualTo(KnockFixtures.NOW.toEpochMilli()).isEqualTo(sealed.timestampMillis());
        assertThat(c.grants()).isEqualTo(request.grants());
        assertThat(c.durationSeconds()).isEqualTo(120);
        assertThat(c.declaredIpv4()).isEqualTo(request.declaredIpv4());
        assertThat(c.declaredIpv6()).isEqualTo(request.declaredIpv6());
        assertThat(c.chain()).containsExactly(f.client.certificate());
        assertThat(opened.serverKey()).isEqualTo(f.serverKey.publicKey());
        assertThat(sealed.size()).isEqualTo(f.sealer().sealedSize(request)).isLessThanOrEqualTo(1232);
        assertThat(sealed.datagram()[1]).isEqualTo((byte) f.serverKey.publicKey().suite().wireId());
    }

    @Test
    void timestampIsUtcMillisecondsWhateverTheLocalZone() throws Exception {
        // Surefire runs this suite with TZ and user.timezone set to Pacific/Chatham (UTC+12:45/+13:45).
        assertThat(TimeZone.getDefault().getRawOffset()).as("tests must run outside UTC").isNotZero();
        KnockFixtures f = KnockFixtures.p256();
        SealedKnock sealed = f.sealer().seal(KnockFixtures.sshFor(30));
        long onWire = KnockPlaintext.getLong(f.opener().open(KnockFrame.parse(sealed.datagram())).plaintextForTest(), 0);
        assertThat(onWire).isEqualTo(1_795_342_530_123L); // 2026-11-22T10:15:30.123Z in epoch milliseconds
    }

    @Test
    void v1KnocksMayDeclareNoAddressAndTheNonceIsFreshEachTime() throws Exception {
        KnockFixtures f = KnockFixtures.p256();
        KnockSealer sealer = f.sealer().withVersion(KnockVersion.V1);
        KnockRequest bare = KnockRequest.of(30, List.of(PortGrant.parse("tcp/22")));
        VerifiedKnock a = f.opener().openAndVerify(sealer.seal(bare).datagram());
        VerifiedKnock b = f.opener().openAndVerify(sealer.seal(bare).datagram());
        assertThat(a.version()).isEqualTo(KnockVersion.V1);
        assertThat(a.content().declaredIpv4()).isEmpty();
        assertThat(a.content().declaredIpv6()).isEmpty();
        assertThat(a.content().nonce()).isNotEqualTo(b.content().nonce());
    }

    @Test
    void intermediatesTravelWithTheLeaf() throws Exception {
        KnockFixtures f = KnockFixtures.p256();
        var intermediate = f.ca.intermediate("CN=issuing CA").pathLength(0).build();
        var leaf = intermediate.leaf("CN=bob").keyType(KeyType.ED25519).build();
        ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(leaf.privateKey()), leaf.chain());
        byte[] d = new KnockSealer(cred, f.serverKey.publicKey(), f.clock, new SecureRandom())
                .seal(KnockFixtures.sshFor(60)).datagram();
        assertThat(f.opener().openAndVerify(d).content().chain())
                .containsExactly(leaf.certificate(), intermediate.certificate());
    }

    @Test
    void aServerWithSeveralKeysOpensPacketsForEach() throws Exception {
        KnockFixtures f = KnockFixtures.p256();
        var second = f.ca.leaf("CN=gw1 next key").keyType(KeyType.X25519).build();
        ServerPrivateKey next = ServerPrivateKey.of(second.privateKey(), second.certificate());
        KnockOpener both = KnockOpener.of(f.serverKey, next);
        byte[] toNext = new KnockSealer(f.credential, next.publicKey(), f.clock, new SecureRandom())
                .seal(KnockFixtures.sshFor(10)).datagram();
        assertThat(both.openAndVerify(toNext).serverKey()).isEqualTo(next.publicKey());
        assertThat(both.openAndVerify(f.sealer().seal(KnockFixtures.sshFor(10)).datagram()).serverKey())
                .isEqualTo(f.serverKey.publicKey());
        assertThat(f.opener().tryOpen(toNext))
                .isEqualTo(new OpenResult.Rejected(RejectReason.UNKNOWN_SERVER_KEY,
                        "UNKNOWN_SERVER_KEY: sealed to a key this server does not hold"));
    }

    @Test
    void aJcaSignerProducesKnocksTheOpenerAccepts() throws Exception {
        for (KeyType type : List.of(KeyType.P256, KeyType.ED25519)) {
            KnockFixtures f = new KnockFixtures(KeyType.P256, type);
            KnockSigner jca = KnockSigners.viaJca(f.client.privateKey(), SignatureScheme.of(f.client.certificate().getPublicKey()), null);
            ClientCredential cred = new ClientCredential(jca, f.client.chain());
            byte[] d = new KnockSealer(cred, f.serverKey.publicKey(), f.clock, new SecureRandom())
                    .seal(KnockFixtures.sshFor(10)).datagram();
            assertThat(f.opener().tryOpen(d)).isInstanceOf(OpenResult.Opened.class);
        }
    }

    @Test
    void aSignerThatDoesNotMatchTheCertificateIsRefused() throws Exception {
        KnockFixtures f = new KnockFixtures(KeyType.P256, KeyType.P256);
        KnockFixtures other = new KnockFixtures(KeyType.P256, KeyType.ED25519);
        assertThatThrownBy(() -> new ClientCredential(KnockSigners.forPrivateKey(other.client.privateKey()), f.client.chain()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the signer uses ED25519");
        // Same scheme, wrong key: sealing works but the server rejects the signature.
        ClientCredential wrongKey = new ClientCredential(
                KnockSigners.forPrivateKey(new KnockFixtures(KeyType.P256, KeyType.P256).client.privateKey()), f.client.chain());
        byte[] d = new KnockSealer(wrongKey, f.serverKey.publicKey(), f.clock, new SecureRandom())
                .seal(KnockFixtures.sshFor(10)).datagram();
        assertThat(f.opener().tryOpen(d)).extracting(r -> ((OpenResult.Rejected) r).reason())
                .isEqualTo(RejectReason.BAD_SIGNATURE);
    }

    @Test
    void serverKeyMustMatchItsCertificate() {
        KnockFixtures a = KnockFixtures.p256();
        KnockFixtures b = KnockFixtures.p256();
        assertThatThrownBy(() -> ServerPrivateKey.of(a.server.privateKey(), b.server.certificate()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not belong to the certificate's public key");
        var ed25519Client = new KnockFixtures(KeyType.P256, KeyType.ED25519).client.certificate();
        assertThatThrownBy(() -> ServerPublicKey.fromCertificate(ed25519Client))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("P-256 or X25519");
        assertThat(a.serverKey.toString()).contains("redacted").doesNotContain(a.server.privateKey().toString());
    }

    @Test
    void requestsAreValidated() {
        assertThatThrownBy(() -> KnockRequest.of(30, List.of()))
                .hasMessageContaining("at least one grant");
        assertThatThrownBy(() -> KnockRequest.of(0, List.of(PortGrant.parse("tcp/22"))))
                .hasMessageContaining("outside 1-86400");
        assertThatThrownBy(() -> KnockRequest.of((int) Duration.ofDays(2).toSeconds(), List.of(PortGrant.parse("tcp/22"))))
                .hasMessageContaining("outside 1-86400");
        assertThatThrownBy(() -> KnockRequest.of(30, java.util.Collections.nCopies(17, PortGrant.parse("tcp/22"))))
                .hasMessageContaining("at most 16 grants");
    }
}
