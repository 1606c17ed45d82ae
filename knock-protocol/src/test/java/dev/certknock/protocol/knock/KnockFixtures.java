package dev.certknock.protocol.knock;

import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;

/** A small PKI with a server key and a client credential, for the protocol tests. */
final class KnockFixtures {

    static final Instant NOW = Instant.parse("2026-11-22T10:15:30.123Z");

    final MutableClock clock = MutableClock.at(NOW);
    final TestCa ca = TestCa.root("CN=certknock test root", clock);
    final IssuedCertificate server;
    final IssuedCertificate client;
    final ServerPrivateKey serverKey;
    final ClientCredential credential;

    KnockFixtures(KeyType serverKeyType, KeyType clientKeyType) {
        server = ca.leaf("CN=gw1.example.test").keyType(serverKeyType).dnsName("gw1.example.test")
                .keyUsage(serverKeyType == KeyType.X25519 ? org.bouncycastle.asn1.x509.KeyUsage.keyAgreement
                        : org.bouncycastle.asn1.x509.KeyUsage.keyAgreement | org.bouncycastle.asn1.x509.KeyUsage.digitalSignature)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        client = ca.leaf("CN=alice").keyType(clientKeyType).extendedKeyUsage(CertknockOids.KP_CLIENT.getId()).build();
        serverKey = ServerPrivateKey.of(server.privateKey(), server.certificate());
        try {
            credential = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
        } catch (InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    static KnockFixtures p256() {
        return new KnockFixtures(KeyType.P256, KeyType.P256);
    }

    KnockSealer sealer() {
        return new KnockSealer(credential, serverKey.publicKey(), clock, new SecureRandom());
    }

    KnockOpener opener() {
        return KnockOpener.of(serverKey);
    }

    /** An address to declare (TEST-NET-1): a v2 knock signs the address it is sent from. */
    static final java.net.Inet4Address DECLARED = ipv4(192, 0, 2, 10);

    static java.net.Inet4Address ipv4(int a, int b, int c, int d) {
        try {
            return (java.net.Inet4Address) java.net.InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static KnockRequest sshFor(int seconds) {
        return KnockRequest.of(seconds, List.of(PortGrant.parse("tcp/22"))).withDeclaredIpv4(DECLARED);
    }

    /** A SecureRandom that hands out exactly the given bytes, then fails: makes sealing deterministic. */
    static final class FixedRandom extends SecureRandom {
        private static final long serialVersionUID = 1L;
        private final byte[] stream;
        private int position;

        FixedRandom(byte[] stream) {
            super(new byte[0]);
            this.stream = stream.clone();
        }

        @Override
        public synchronized void nextBytes(byte[] bytes) {
            if (stream == null) {
                return; // called by SecureRandom's own constructor
            }
            if (position + bytes.length > stream.length) {
                throw new IllegalStateException("FixedRandom ran out of bytes");
            }
            System.arraycopy(stream, position, bytes, 0, bytes.length);
            position += bytes.length;
        }
    }
}
