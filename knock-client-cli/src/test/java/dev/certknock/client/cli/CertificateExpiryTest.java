package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.cli.UserException;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.testing.pki.IssuedCertificate;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** knock warns a day before the client certificate expires, and refuses to send with an expired one. */
class CertificateExpiryTest {

    @TempDir
    Path dir;

    /** A bundle for a client certificate of the test PKI valid until {@code notAfter}, replacing alice.p12. */
    private IssuedCertificate bundleUntil(CliPki pki, Instant notAfter) throws Exception {
        IssuedCertificate c = pki.ca.leaf("CN=carol").extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(CliPki.GRANTS))
                .validity(notAfter.minus(Duration.ofDays(2)), notAfter).build();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("carol", c.privateKey(), CliPki.PASSWORD.toCharArray(),
                new Certificate[] {c.certificate(), pki.ca.certificate()});
        try (OutputStream o = Files.newOutputStream(pki.bundle)) {
            store.store(o, CliPki.PASSWORD.toCharArray());
        }
        return c;
    }

    @Test
    void aCertificateExpiringWithinADayGivesOneWarningLineWithTheRenewCommand() throws Exception {
        CliPki pki = new CliPki(dir);
        Instant notAfter = Instant.now().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.SECONDS);
        IssuedCertificate carol = bundleUntil(pki, notAfter);
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--dry-run"));
        assertThat(rc).as(pki.err.toString()).isZero();
        List<String> warnings = pki.err.toString().lines().filter(l -> l.contains("expires")).toList();
        assertThat(warnings).singleElement().satisfies(l -> assertThat(l)
                .startsWith("knock: warning: your certificate CN=carol expires at " + notAfter + " (in 1h5")
                .endsWith("ask your security team to renew it (knock-ca renew --serial "
                        + carol.certificate().getSerialNumber().toString(16) + ")"));
        assertThat(pki.out.toString()).startsWith("dry run, nothing sent");

        pki.reset();
        bundleUntil(pki, Instant.now().plus(Duration.ofHours(25)));
        assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--dry-run"))).isZero();
        assertThat(pki.err.toString()).doesNotContain("expires");
    }

    @Test
    void anExpiredCertificateIsRefusedBeforeAnythingIsSent() throws Exception {
        CliPki pki = new CliPki(dir);
        Instant notAfter = Instant.now().minus(Duration.ofMinutes(3)).truncatedTo(ChronoUnit.SECONDS);
        IssuedCertificate carol = bundleUntil(pki, notAfter);
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port",
                    Integer.toString(receiver.getLocalPort()), "--no-reply"));
            assertThat(rc).isEqualTo(4);
            assertThat(pki.err.toString()).contains("your certificate CN=carol (serial "
                    + carol.certificate().getSerialNumber().toString(16) + ") expired at " + notAfter,
                    "nothing was sent", "knock-ca renew --serial");
            receiver.setSoTimeout(300);
            assertThatThrownBy(() -> receiver.receive(new DatagramPacket(new byte[2048], 2048)))
                    .isInstanceOf(SocketTimeoutException.class);
        }
    }

    @Test
    void theWarningStartsExactlyADayBeforeTheNotAfter() throws Exception {
        CliPki pki = new CliPki(dir);
        Instant notAfter = Instant.parse("2026-12-05T10:00:00Z");
        IssuedCertificate c = pki.ca.leaf("CN=dave").validity(notAfter.minus(Duration.ofDays(3)), notAfter).build();
        List<String> warnings = new ArrayList<>();
        CertificateExpiry.check(c.certificate(), notAfter.minus(Duration.ofHours(24)).minusSeconds(1), warnings::add);
        assertThat(warnings).isEmpty();
        CertificateExpiry.check(c.certificate(), notAfter.minus(Duration.ofHours(24)), warnings::add);
        assertThat(warnings).singleElement().asString().contains("expires at 2026-12-05T10:00:00Z (in 24h)");
        warnings.clear();
        CertificateExpiry.check(c.certificate(), notAfter.minusSeconds(1), warnings::add);
        assertThat(warnings).singleElement().asString().contains("(in 1s)");
        assertThatThrownBy(() -> CertificateExpiry.check(c.certificate(), notAfter, warnings::add))
                .isInstanceOf(UserException.class).hasMessageContaining("expired at 2026-12-05T10:00:00Z");
    }
}
