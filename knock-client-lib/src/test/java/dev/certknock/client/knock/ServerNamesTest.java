package dev.certknock.client.knock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.certknock.client.ClientPki;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The server certificate must name the host knocked on, as TLS checks a server's name (RFC 6125/9525): the case
 * of the issue, gw1's certificate used for localhost, is refused before anything is sent.
 */
class ServerNamesTest {

    private final ClientPki pki = new ClientPki();

    private X509Certificate cert(String... names) {
        var b = pki.ca.leaf("CN=common-name.example.test").keyUsage(KeyUsage.keyAgreement)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId());
        for (String n : names) {
            if (n.startsWith("ip:")) {
                b.ipAddress(n.substring(3));
            } else {
                b.dnsName(n);
            }
        }
        return b.build().certificate();
    }

    @ParameterizedTest(name = "{0} names {1}: {2}")
    @CsvSource({
        "gw1.example.test,           gw1.example.test,     true",
        "gw1.example.test,           GW1.Example.TEST,     true",
        "gw1.example.test,           gw1.example.test.,    true",
        "GW1.EXAMPLE.TEST.,          gw1.example.test,     true",
        "gw1.example.test,           gw2.example.test,     false",
        "gw1.example.test,           example.test,         false",
        "gw1.example.test,           x.gw1.example.test,   false",
        "*.example.test,             gw1.example.test,     true",
        "*.example.test,             GW9.EXAMPLE.test,     true",
        "*.example.test,             example.test,         false",
        "*.example.test,             a.gw1.example.test,   false",
        "*.test,                     example.test,         false",
        "gw*.example.test,           gw1.example.test,     false",
        "*gw.example.test,           xgw.example.test,     false",
        "gw1.*.test,                 gw1.example.test,     false",
        "*.*.test,                   a.b.test,             false",
        "ip:127.0.0.1,               127.0.0.1,            true",
        "ip:127.0.0.1,               127.0.0.2,            false",
        "ip:::1,                     ::1,                  true",
        "ip:::1,                     0:0:0:0:0:0:0:1,      true",
        "ip:::1,                     [::1],                true",
        "ip:2001:db8::a,             2001:DB8:0::A,        true",
        "ip:127.0.0.1,               localhost,            false",
        "127.0.0.1,                  127.0.0.1,            false",
        "*.0.0.1,                    127.0.0.1,            false",
        "localhost,                  localhost,            true",
    })
    void namesMatchAsTlsMatchesThem(String listed, String host, boolean matches) {
        assertThat(ServerNames.matches(cert(listed.split(" ")), host)).isEqualTo(matches);
    }

    @Test
    void theCommonNameIsNeverAName() {
        assertThat(ServerNames.matches(cert(), "common-name.example.test")).isFalse();
        assertThat(ServerNames.matches(cert("other.example.test"), "common-name.example.test")).isFalse();
    }

    @Test
    void anyOfSeveralNamesWill() {
        X509Certificate c = cert("gw1.example.test", "ip:192.0.2.10", "ip:2001:db8::10");
        assertThat(ServerNames.matches(c, "gw1.example.test")).isTrue();
        assertThat(ServerNames.matches(c, "192.0.2.10")).isTrue();
        assertThat(ServerNames.matches(c, "2001:db8::10")).isTrue();
        assertThat(ServerNames.matches(c, "192.0.2.11")).isFalse();
    }

    @Test
    void anotherServersCertificateIsRefusedBeforeSendingWithWhatToDo() {
        // gw1's certificate, the right CA: a knock on another host with it would be dropped there unread
        IssuedCertificate gw1 = ClientPki.serverBuilder(pki.ca, KeyType.P256).build();
        KnockException e = catchThrowableOfType(() -> KnockClient.builder(pki.identity(),
                KnockTarget.of("gw2.example.test", gw1.certificate())).clock(pki.clock).build(), KnockException.class);
        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(KnockException.Reason.SERVER_NAME_MISMATCH);
        assertThat(e.getMessage()).isEqualTo("the server certificate 'CN=gw1.example.test' is not for gw2.example.test: "
                + "it names gw1.example.test, 127.0.0.1, 0:0:0:0:0:0:0:1. A knock sealed to another server's key is "
                + "dropped unread by the server at gw2.example.test: use the certificate of the server you knock on, or "
                + "knock on a name the certificate lists");
    }

    @Test
    void serverNameSaysWhichNameTheCertificateMustCarryAndIsStillChecked() throws Exception {
        IssuedCertificate dnsOnly = pki.ca.leaf("CN=gw1.example.test").dnsName(ClientPki.SERVER_NAME)
                .keyUsage(KeyUsage.keyAgreement).extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        KnockTarget byAddress = KnockTarget.of("127.0.0.1", dnsOnly.certificate());
        assertThat(catchThrowableOfType(() -> KnockClient.builder(pki.identity(), byAddress).clock(pki.clock).build(),
                KnockException.class).reason()).isEqualTo(KnockException.Reason.SERVER_NAME_MISMATCH);
        KnockClient.builder(pki.identity(), byAddress).serverName(ClientPki.SERVER_NAME).clock(pki.clock).build()
                .prepare(List.of(PortGrant.parse("tcp/22")), KnockOptions.defaults());
        assertThat(catchThrowableOfType(() -> KnockClient.builder(pki.identity(), byAddress).serverName("gw2.example.test")
                .clock(pki.clock).build(), KnockException.class).getMessage())
                .startsWith("the server certificate 'CN=gw1.example.test' is not for gw2.example.test: it names "
                        + "gw1.example.test.");
    }
}
