package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.KeyType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Knock v2: the address is signed, the versions cannot be confused for one another, and a reply can be read
 * by the knock's sender only.
 */
class KnockV2Test {

    private static final byte[] IKM_E = HexFormat.of().parseHex("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0");

    private final KnockFixtures f = KnockFixtures.p256();

    @Test
    void theDefaultIsV2AndItRefusesToSealAKnockThatDeclaresNoAddress() {
        KnockSealer sealer = f.sealer();
        assertThat(sealer.version()).isEqualTo(KnockVersion.V2);
        assertThatThrownBy(() -> sealer.seal(KnockRequest.of(30, List.of(PortGrant.parse("tcp/22")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("declares the address it is sent from");
    }

    @Test
    void aV2KnockCarriesItsVersionAndSignedAddress() throws Exception {
        SealedKnock sealed = f.sealer().seal(KnockFixtures.sshFor(30));
        assertThat(sealed.datagram()[0]).isEqualTo((byte) 0x02);
        VerifiedKnock k = f.opener().openAndVerify(sealed.datagram());
        assertThat(k.version()).isEqualTo(KnockVersion.V2);
        assertThat(k.content().declaredIpv4()).contains(KnockFixtures.DECLARED);
    }

    @Test
    void aV2ContentThatDeclaresNoAddressIsMalformedEvenWhenSealedAndSigned() throws Exception {
        // A v1 plaintext without addresses, re-labelled and re-signed as v2: the decoder refuses it before the signature.
        SealedKnock v1 = f.sealer().withVersion(KnockVersion.V1).seal(KnockRequest.of(30, List.of(PortGrant.parse("tcp/22"))));
        byte[] plaintext = f.opener().open(KnockFrame.parse(v1.datagram())).plaintextForTest();
        byte[] d = KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, plaintext);
        assertThat(f.opener().tryOpen(d)).isEqualTo(new OpenResult.Rejected(RejectReason.MALFORMED_CONTENT,
                "MALFORMED_CONTENT: a v2 knock declares no address"));
    }

    @Test
    void aV1KnockRelabelledAsV2FailsAndSoDoesItsContentResealedAsV2() throws Exception {
        SealedKnock v1 = f.sealer().withVersion(KnockVersion.V1).seal(KnockFixtures.sshFor(30));
        byte[] relabelled = v1.datagram();
        relabelled[0] = 0x02; // the header is HPKE additional data, and the info string differs too
        assertThat(f.opener().tryOpen(relabelled)).isInstanceOf(OpenResult.Rejected.class)
                .extracting(r -> ((OpenResult.Rejected) r).reason()).isEqualTo(RejectReason.DECRYPTION_FAILED);
        // The same signed content sealed properly as v2: the v1 signature does not verify under the v2 label.
        byte[] plaintext = f.opener().open(KnockFrame.parse(v1.datagram())).plaintextForTest();
        byte[] resealed = KnockSealer.sealRawForTest(KnockVersion.V2, f.serverKey.publicKey(), IKM_E, plaintext);
        assertThat(f.opener().tryOpen(resealed)).isInstanceOf(OpenResult.Rejected.class)
                .extracting(r -> ((OpenResult.Rejected) r).reason()).isEqualTo(RejectReason.BAD_SIGNATURE);
        // And the other way round.
        SealedKnock v2 = f.sealer().seal(KnockFixtures.sshFor(30));
        byte[] v2plaintext = f.opener().open(KnockFrame.parse(v2.datagram())).plaintextForTest();
        byte[] asV1 = KnockSealer.sealRawForTest(KnockVersion.V1, f.serverKey.publicKey(), IKM_E, v2plaintext);
        assertThat(f.opener().tryOpen(asV1)).isInstanceOf(OpenResult.Rejected.class)
                .extracting(r -> ((OpenResult.Rejected) r).reason()).isEqualTo(RejectReason.BAD_SIGNATURE);
    }

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"P256", "X25519"})
    void onlyTheSenderReadsTheReply(KeyType serverType) throws Exception {
        KnockFixtures fx = new KnockFixtures(serverType, KeyType.ED25519);
        SealedKnock sealed = fx.sealer().seal(KnockFixtures.sshFor(30));
        SealedKnock other = fx.sealer().seal(KnockFixtures.sshFor(30));
        VerifiedKnock verified = fx.opener().openAndVerify(sealed.datagram());
        InetSocketAddress observed = new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40123);
        KnockReply reply = new KnockReply.Opened(1_795_342_530_999L, observed, 300);
        byte[] d = new ReplySealer(new SecureRandom()).seal(verified, reply).orElseThrow();
        assertThat(d.length).isLessThan(sealed.size()).isLessThanOrEqualTo(61);
        assertThat(d[0]).isEqualTo((byte) KnockFormat.REPLY_V2);
        assertThat(sealed.openReply(d, 0, d.length)).contains(reply);
        // Another knock's key, any flipped bit, a truncation: nothing.
        assertThat(other.openReply(d, 0, d.length)).isEmpty();
        for (int i = 0; i < d.length; i++) {
            byte[] t = d.clone();
            t[i] ^= 0x01;
            assertThat(sealed.openReply(t, 0, t.length)).as("byte %d flipped", i).isEmpty();
        }
        assertThat(sealed.openReply(d, 0, d.length - 1)).isEmpty();
        assertThat(sealed.openReply(d, 1, d.length - 1)).isEmpty();
        assertThat(sealed.openReply(d, 0, d.length + 1)).as("a slice past the buffer").isEmpty();
        // A reply inside a bigger receive buffer.
        byte[] buffer = new byte[200];
        System.arraycopy(d, 0, buffer, 7, d.length);
        assertThat(sealed.openReply(buffer, 7, d.length)).contains(reply);
    }

    @Test
    void anAddressReplyCarriesTheObservedIpv4AddressAndPort() throws Exception {
        SealedKnock sealed = f.sealer().seal(KnockFixtures.sshFor(30));
        VerifiedKnock verified = f.opener().openAndVerify(sealed.datagram());
        KnockReply reply = new KnockReply.AddressNotSigned(1L, new InetSocketAddress(InetAddress.getByName("203.0.113.9"), 1));
        byte[] d = new ReplySealer(new SecureRandom()).seal(verified, reply).orElseThrow();
        assertThat(d).hasSize(1 + 12 + 20 + 16);
        assertThat(sealed.openReply(d, 0, d.length)).contains(reply);
        // Two replies to one knock use fresh nonces: never the same bytes.
        assertThat(new ReplySealer(new SecureRandom()).seal(verified, reply).orElseThrow()).isNotEqualTo(d);
    }

    @Test
    void aV1KnockIsNeverAnswered() throws Exception {
        SealedKnock v1 = f.sealer().withVersion(KnockVersion.V1).seal(KnockFixtures.sshFor(30));
        VerifiedKnock verified = f.opener().openAndVerify(v1.datagram());
        KnockReply reply = new KnockReply.AddressNotSigned(1L, new InetSocketAddress(InetAddress.getByName("203.0.113.9"), 1));
        assertThat(new ReplySealer(new SecureRandom()).seal(verified, reply)).isEmpty();
        SealedKnock v2 = f.sealer().seal(KnockFixtures.sshFor(30));
        byte[] d = new ReplySealer(new SecureRandom()).seal(f.opener().openAndVerify(v2.datagram()), reply).orElseThrow();
        assertThat(v1.openReply(d, 0, d.length)).isEmpty();
    }

    @Test
    void replyPlaintextsOutsideTheRulesAreRefused() throws Exception {
        byte[] good = ReplyPlaintext.encode(new KnockReply.Opened(5L, new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 9), 60));
        assertThat(ReplyPlaintext.decode(good)).isPresent();
        assertThat(ReplyPlaintext.decode(Arrays.copyOf(good, good.length - 1))).isEmpty();
        assertThat(ReplyPlaintext.decode(Arrays.copyOf(good, good.length + 1))).isEmpty();
        byte[] kind = good.clone();
        kind[0] = 3;
        assertThat(ReplyPlaintext.decode(kind)).as("unknown kind").isEmpty();
        byte[] family = good.clone();
        family[9] = 6;
        assertThat(ReplyPlaintext.decode(family)).as("family 6 with four address bytes").isEmpty();
        byte[] time = good.clone();
        time[1] = (byte) 0x80;
        assertThat(ReplyPlaintext.decode(time)).as("negative time").isEmpty();
        byte[] seconds = good.clone();
        seconds[seconds.length - 4] = 0x01; // 16,777,276 s
        assertThat(ReplyPlaintext.decode(seconds)).as("open time over a day").isEmpty();
        byte[] zero = good.clone();
        zero[zero.length - 1] = 0;
        assertThat(ReplyPlaintext.decode(zero)).as("opened for 0 s").isEmpty();
        byte[] addressReply = ReplyPlaintext.encode(new KnockReply.AddressNotSigned(5L,
                new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 9)));
        addressReply[addressReply.length - 1] = 1;
        assertThat(ReplyPlaintext.decode(addressReply)).as("an address reply with an open time").isEmpty();
        byte[] mapped = ReplyPlaintext.encode(new KnockReply.AddressNotSigned(5L,
                new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 9)));
        byte[] v4mapped = HexFormat.of().parseHex("00000000000000000000ffffc0000201");
        System.arraycopy(v4mapped, 0, mapped, 10, 16);
        assertThat(ReplyPlaintext.decode(mapped)).as("IPv4-mapped IPv6").isEmpty();
        assertThat(Optional.of(good).flatMap(ReplyPlaintext::decode)).isPresent();
    }
}
