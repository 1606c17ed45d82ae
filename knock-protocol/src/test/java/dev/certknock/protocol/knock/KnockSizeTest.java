package dev.certknock.protocol.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KnockSizeTest {

    private final KnockFixtures f = KnockFixtures.p256();

    private static KnockRequest fourGrantsBothAddresses() throws Exception {
        return new KnockRequest(List.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/443"),
                PortGrant.parse("udp/8000-8100"), PortGrant.parse("tcp/5432")), 300,
                Optional.of((Inet4Address) InetAddress.getByName("203.0.113.9")),
                Optional.of((Inet6Address) InetAddress.getByName("2001:db8:1:2:3:4:5:6")));
    }

    @Test
    void aTypicalP256ClientCertificateWithFourGrantsAndBothAddressesFits() throws Exception {
        // About 500 bytes: a P-256 certificate with SKI, AKI, key usage, EKU and
        // the grants extension of BRIEF.md's golden vector.
        IssuedCertificate client = f.ca.leaf("CN=alice,O=Example")
                .extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, java.util.HexFormat.of().parseHex(
                        "302F301530060A0106020116300B0A011102021F4002021FA48002012CA1120C106777312E6578616D706C652E74657374"))
                .build();
        int certSize = client.encoded().length;
        assertThat(certSize).isBetween(470, 530);
        ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()), client.chain());
        KnockSealer sealer = new KnockSealer(cred, f.serverKey.publicKey(), f.clock, new SecureRandom());
        SealedKnock sealed = sealer.seal(fourGrantsBothAddresses());
        System.out.printf("knock size: P-256 client certificate %d bytes, 4 grants, IPv4+IPv6 -> %d-byte datagram%n",
                certSize, sealed.size());
        // Fixed overhead: 10 header + 65 enc + 16 tag + 30 prefix + 20 grants + 20 addresses + 1 + 2 + 64 signature.
        assertThat(sealed.size()).isEqualTo(228 + certSize).isLessThanOrEqualTo(1232);
    }

    @Test
    void anOversizedChainIsRefusedSayingWhichPartIsTooBig() throws Exception {
        var rsaIntermediate = f.ca.intermediate("CN=a very verbose RSA intermediate,OU=Legacy PKI,O=Example Corp,C=DE")
                .keyType(KeyType.RSA2048).build();
        var rsaIntermediate2 = rsaIntermediate.intermediate("CN=another RSA intermediate,OU=Legacy PKI,O=Example Corp,C=DE")
                .keyType(KeyType.RSA2048).build();
        IssuedCertificate leaf = rsaIntermediate2.leaf("CN=carol").build();
        ClientCredential cred = new ClientCredential(KnockSigners.forPrivateKey(leaf.privateKey()), leaf.chain());
        KnockSealer sealer = new KnockSealer(cred, f.serverKey.publicKey(), f.clock, new SecureRandom());
        assertThat(sealer.sealedSize(fourGrantsBothAddresses())).isGreaterThan(1232);
        assertThatThrownBy(() -> sealer.seal(fourGrantsBothAddresses()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("over the 1232-byte limit")
                .hasMessageContaining("the certificate chain takes")
                .hasMessageContaining("intermediate")
                .hasMessageContaining("Leave out intermediates");
    }
}
